"""The per-user upload quota, counted in the real Redis the API uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.errors import Problem
from api.quotas import UploadQuota


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_a_user_past_the_quota_is_told_when_to_come_back(client: redis.Redis) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    quota = UploadQuota(client, per_window=2, window=timedelta(minutes=10), namespace=namespace)
    user, other = uuid.uuid4(), uuid.uuid4()
    try:
        quota.take(user)
        quota.take(user)
        with pytest.raises(Problem) as refused:
            quota.take(user)
        quota.take(other)
    finally:
        client.delete(*client.scan_iter(f"{namespace}:*"))

    assert refused.value.status == 429
    assert 0 < int(refused.value.headers["Retry-After"]) <= 600


def test_without_redis_uploads_go_on(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 9: the connection is refused at once.
    gone = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=1,
                       retry=Retry(NoBackoff(), 0))
    quota = UploadQuota(gone, per_window=1, window=timedelta(minutes=1))

    quota.take(uuid.uuid4())
    quota.take(uuid.uuid4())

    assert "upload quota not applied" in caplog.text
