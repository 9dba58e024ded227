"""The Dramatiq broker on Redis. Built by a function the runtime calls: nothing connects, and
no global broker exists, until a process decides to deliver email."""

from __future__ import annotations

from collections.abc import Sequence

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Retries

from workers.config import Delivery

ACTOR_NAME = "send_email"

# A worker that stops calling Redis for this long is dead, and another worker puts the messages
# it had taken back on the queue (Dramatiq's default is a minute, checked on average every
# 100 s: a dead worker's emails waited minutes). A live worker calls at least every poll
# interval while it has room for messages, and at each message it finishes.
HEARTBEAT_TIMEOUT_MS = 30_000
# Out of a million broker calls, how many also look for dead workers' messages: with idle
# workers polling ten times a second, about every five seconds.
MAINTENANCE_CHANCE = 20_000

# A message whose actor could not reach the database is tried again after 0.5 s, doubling up to
# 10 s, for as long as the outage lasts (the attempt is not the email's: it never counted).
DB_RETRY_MIN_MS = 500
DB_RETRY_MAX_MS = 10_000
DB_RETRIES = 1_000


class DatabaseUnavailable(Exception):
    """The actor could not reach the database; the message is retried shortly."""


def _retry_when(retries: int, error: BaseException) -> bool:
    return isinstance(error, DatabaseUnavailable) and retries < DB_RETRIES


def make_broker(redis_url: str, delivery: Delivery) -> RedisBroker:
    # The outbox owns the email's retries (its rows survive a Redis flush and show admins when
    # the next try is due), so Dramatiq retries a message only when the database was away; any
    # other error dead-letters it and the relay enqueues its row again.
    broker = RedisBroker(
        url=redis_url,
        namespace=delivery.namespace,
        middleware=[Retries(min_backoff=DB_RETRY_MIN_MS, max_backoff=DB_RETRY_MAX_MS,
                            retry_when=_retry_when)],
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    return broker


def send_email_message(email_ids: Sequence[str], delivery: Delivery) -> Message[None]:
    """The message that asks a worker to deliver outbox rows (one command's emails)."""
    return Message(
        queue_name=delivery.queue_name,
        actor_name=ACTOR_NAME,
        args=tuple(email_ids),
        kwargs={},
        options={},
    )
