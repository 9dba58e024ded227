"""The embedded Redis: password-only access, private files, restart after a SIGKILL."""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from runtime.embedded import EmbeddedService, start_redis
from runtime.embedded_watch import ServiceWatcher
from tests.runtime.support import wait_until_dead

ANSWER_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedded-redis")


@pytest.fixture(scope="module")
def redis_service(data_dir: Path) -> Iterator[EmbeddedService]:
    service = start_redis(data_dir)
    yield service
    service.stop()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_client_needs_the_password(redis_service: EmbeddedService) -> None:
    anonymous = redis.Redis(host="127.0.0.1", port=redis_service.port,
                            retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.set("key", "value")
    anonymous.close()
    client = redis.Redis.from_url(redis_service.url)
    assert client.ping()
    client.close()


def test_its_files_are_private(redis_service: EmbeddedService, data_dir: Path) -> None:
    assert _mode(data_dir / "redis") == 0o700
    assert _mode(data_dir / "redis.password") == 0o600
    assert _mode(data_dir / "redis" / "redis.conf") == 0o600
    assert _mode(data_dir / "redis.log") == 0o600
    assert _mode(data_dir) & 0o077 in (0, 0o010)
    # The password is not on the command line, which every local user can read.
    password = (data_dir / "redis.password").read_text().strip()
    assert password not in Path(f"/proc/{_pid(data_dir)}/cmdline").read_text()


def _pid(data_dir: Path) -> int:
    return int((data_dir / "redis" / "redis.pid").read_text())


def test_a_killed_server_comes_back_on_its_port_with_its_data(
    redis_service: EmbeddedService, data_dir: Path
) -> None:
    client = redis.Redis.from_url(redis_service.url, socket_timeout=2,
                                  retry=Retry(NoBackoff(), 0))
    client.set("kept", "written before the kill")
    killed = _pid(data_dir)
    watcher = ServiceWatcher([redis_service], interval=0.1)
    watcher.start()
    try:
        os.kill(killed, signal.SIGKILL)
        wait_until_dead(killed)
        began = time.monotonic()
        while True:
            try:
                value = client.get("kept")
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() - began > ANSWER_TIMEOUT:
                    pytest.fail(f"Redis did not answer again within {ANSWER_TIMEOUT} s")
                time.sleep(0.05)
    finally:
        watcher.stop()
        client.close()
    assert value == b"written before the kill"
    assert redis_service.is_running() and _pid(data_dir) != killed
