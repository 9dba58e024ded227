"""Delivery knobs: how hard and how often the email pipeline tries.

Production defaults make 10 attempts over roughly a day; tests pass tiny values instead of
patching anything, which is why they are plain data handed to every component.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Positive = Annotated[float, msgspec.Meta(gt=0)]
AtLeastOne = Annotated[int, msgspec.Meta(ge=1)]
Name = Annotated[str, msgspec.Meta(min_length=1)]


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """Constraints are checked by `msgspec.convert` (as `runtime/cli_email.py` builds it from
    the environment), not by the constructor."""

    # Attempts per email before it is marked failed (the first send counts as one).
    max_attempts: AtLeastOne = 10
    # Wait after the first failure, doubling after each further one, capped: with these values
    # the waits are 3, 6, 12 … 384 minutes, then 8 h, so 10 attempts span about 21 hours.
    min_backoff: Positive = 180.0
    max_backoff: Positive = 8 * 3600.0
    # A queued row whose message vanished (Redis lost it, a worker died holding it before it
    # began) is enqueued again after this long, so none waits more than a minute for it. A
    # message that was only slow finds its row taken by then: a duplicate message is harmless.
    requeue_after: Positive = 60.0
    # While emails wait out an SMTP outage, the relay releases the oldest of them this often to
    # find out whether the server is back (a probe that fails costs that email no attempt); one
    # that gets through releases all the others.
    outage_probe: Positive = 30.0
    # Bound on one SMTP conversation, so a stuck server cannot pin a worker thread forever.
    smtp_timeout: Positive = 30.0
    worker_threads: AtLeastOne = 8
    # Longest idle poll of the Redis queue by a worker: bounds the pickup latency after a lull.
    worker_poll_ms: AtLeastOne = 100
    # The relay wakes on NOTIFY; this is its fallback poll for retries coming due.
    relay_interval: Positive = 1.0
    relay_batch: AtLeastOne = 500
    # Redis key prefix, so several deployments or test runs can share one Redis.
    namespace: Name = "trail"
    queue_name: Name = "email"

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before the next try, after `attempts` failed ones (attempts >= 1)."""
        return float(min(self.max_backoff, self.min_backoff * 2 ** max(0, attempts - 1)))


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """How hard and how often webhook deliveries are tried (TRAIL_WEBHOOK_* variables)."""

    # Attempts per delivery before it is marked failed (the first one counts).
    max_attempts: AtLeastOne = 8
    # Wait after the first failure, four times longer after each further one, capped: with these
    # values 10 s, 40 s, 160 s, 11 min, 43 min, 2.8 h, then 6 h; 8 attempts span about 10 hours.
    min_backoff: Positive = 10.0
    max_backoff: Positive = 6 * 3600.0
    # Bound on one attempt (connect, send, first bytes of the answer).
    timeout: Positive = 10.0
    # Webhooks sent to at once by one deliverer process.
    threads: AtLeastOne = 8
    # The deliverer wakes on NOTIFY; this is its fallback poll for retries coming due.
    poll_interval: Positive = 1.0
    # Call addresses that are not public (a receiver on the same network). Off: SSRF guard.
    allow_private: bool = False

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before the next try, after `attempts` failed ones (attempts >= 1)."""
        return float(min(self.max_backoff, self.min_backoff * 4 ** max(0, attempts - 1)))
