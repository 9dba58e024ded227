"""The per-user upload quota (a `Throttle` keyed by user), counted in the real Redis the API
uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from commands.errors import TooManyRequests
from commands.throttles import Throttle


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_a_user_past_the_quota_is_told_when_to_come_back(client: redis.Redis) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    quota = Throttle(client, name="uploads", limit=2, window=timedelta(minutes=10),
                     namespace=namespace)
    user, other = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        quota.take(user, "uploads")
        quota.take(user, "uploads")
        with pytest.raises(TooManyRequests) as refused:
            quota.take(user, "uploads")
        quota.take(other, "uploads")
    finally:
        client.delete(*client.scan_iter(f"{namespace}:*"))

    assert 0 < refused.value.retry_after <= 600


def test_without_redis_uploads_go_on(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 9: the connection is refused at once.
    gone = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=1,
                       retry=Retry(NoBackoff(), 0))
    quota = Throttle(gone, name="uploads", limit=1, window=timedelta(minutes=1))

    quota.take(str(uuid.uuid4()), "uploads")
    quota.take(str(uuid.uuid4()), "uploads")

    assert "uploads limit not applied" in caplog.text
