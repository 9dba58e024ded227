"""A per-user limit on uploads. Each one costs a hash over up to `TRAIL_MAX_UPLOAD_MB` and an email
to every assignee of its ticket: one account must not be able to flood a ticket's people or the
server. Counted in Redis, so every API process counts the same uploads.

A fixed window starts at a user's first upload; past the limit, uploads answer 429 with
`Retry-After` until the window ends. Without Redis the limit is not applied (logged): unlike a
login limit, nothing is guessed here, and attaching files should not stop with the broker.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from redis import Redis
from redis.exceptions import RedisError

from api.errors import Problem

log = logging.getLogger("trail.api")


class UploadQuota:
    def __init__(self, redis: Redis, *, per_window: int, window: timedelta,
                 namespace: str = "trail") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:uploads"
        self._limit = per_window
        self._window = max(1, int(window.total_seconds()))

    def take(self, user_id: UUID) -> None:
        """Count one upload of `user_id`; 429 once the window's are used up."""
        key = f"{self._prefix}:{user_id}"
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=self._window, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = pipe.execute()
        except RedisError as error:
            log.warning("upload quota not applied, Redis did not answer: %s", error)
            return
        if int(count) > self._limit:
            retry_after = ttl if isinstance(ttl, int) and ttl > 0 else self._window
            raise Problem(
                429,
                f"at most {self._limit} uploads per {self._window // 60} minutes; try again in "
                f"{retry_after} seconds",
                kind="too-many-requests",
                headers={"Retry-After": str(retry_after)},
            )
