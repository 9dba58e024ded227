"""Limits on what a caller may ask for before it has a token.

Login attempts follow the rule in `commands.logins`, shared with the web app's sign-in page, so
both count the same failures. Registrations and password-reset emails are counted here, per
client address and (for resets) per email: each costs an argon2 hash or an email to someone
who did not ask for it, so neither may be had in bulk.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from redis import Redis
from redis.exceptions import RedisError

from api.errors import Problem
from commands.logins import PREFIX, LoginLimiter

log = logging.getLogger("trail.api")

__all__ = ["PREFIX", "LoginLimiter", "Throttle"]


class Throttle:
    """At most `limit` requests per key in a fixed window that starts at the first, counted
    in Redis (so every API process counts the same ones); past it, 429 with `Retry-After`.

    Without Redis the limit is not applied (logged): registering and asking for a reset email
    should not stop with the broker, and neither lets anyone guess a password.
    """

    def __init__(self, redis: Redis, *, name: str, limit: int, window: timedelta,
                 namespace: str = "trail") -> None:
        self._redis = redis
        self._name = name
        self._limit = limit
        self._window = max(1, int(window.total_seconds()))
        self._prefix = f"{namespace}:throttle:{name}"

    def take(self, value: str, what: str) -> None:
        """Count one request for `value` (an address, an email); 429 naming `what` when the
        window's are used up."""
        # Hashed so that Redis never holds addresses or emails in clear.
        key = f"{self._prefix}:{hashlib.sha256(value.encode()).hexdigest()}"
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=self._window, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = pipe.execute()
        except RedisError as error:
            log.warning("%s limit not applied, Redis did not answer: %s", self._name, error)
            return
        if int(count) > self._limit:
            retry_after = ttl if isinstance(ttl, int) and ttl > 0 else self._window
            raise Problem(
                429,
                f"at most {self._limit} {what} per {_span(self._window)}; try again in "
                f"{retry_after} seconds",
                kind="too-many-requests",
                headers={"Retry-After": str(retry_after)},
            )


def _span(seconds: int) -> str:
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} hours"
    if seconds % 60 == 0:
        return "minute" if seconds == 60 else f"{seconds // 60} minutes"
    return f"{seconds} seconds"
