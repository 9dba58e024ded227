"""Fixtures for the email tests: a real SMTP server, a Redis namespace of the module's own, fast
retry settings, and the notifier and a worker running in this process.

Each module has its own scratch database (tests/conftest.py), hence its own outbox, and its own
Redis key namespace, deleted afterwards, so runs and modules never see each other's messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from commands.services import Commands
from runtime import bootstrap
from runtime.settings import Settings
from tests.email.support import Mailbox, People, SmtpServer
from tests.services import REPO_ROOT
from workers.config import Delivery

BASE_URL = "http://trail.test"

WorkerProcess = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture(scope="module")
def namespace(redis_url: str) -> Iterator[str]:
    name = f"trail-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{name}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def delivery(namespace: str) -> Delivery:
    # Seconds instead of hours, so failure and recovery fit in a test.
    return Delivery(
        max_attempts=30,
        min_backoff=0.2,
        max_backoff=1.0,
        requeue_after=2.0,
        smtp_timeout=10.0,
        worker_threads=4,
        relay_interval=0.2,
        namespace=namespace,
    )


@pytest.fixture(scope="module")
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture(scope="module")
def smtp(mailbox: Mailbox) -> Iterator[SmtpServer]:
    server = SmtpServer(mailbox)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def settings(smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        smtp_url=smtp.url,
        mail_from="Trail <trail@trail.test>",
        base_url=BASE_URL,
        data_dir=Path(tmp_path_factory.mktemp("trail-data")),
    )


@pytest.fixture(scope="module")
def people(app: Commands) -> People:
    return People(app)


@pytest.fixture(scope="module")
def notifier(
    app: Commands, scratch_database_url: str, redis_url: str, settings: Settings,
    delivery: Delivery,
) -> Iterator[None]:
    """The outbox projection and the relay (after `app`, which creates the event store)."""
    running = bootstrap.notifier(settings, scratch_database_url, redis_url, delivery)
    running.start()
    yield
    running.stop()


@pytest.fixture(scope="module")
def worker(
    app: Commands, scratch_database_url: str, redis_url: str, settings: Settings,
    delivery: Delivery,
) -> Iterator[None]:
    running = bootstrap.email_worker(settings, scratch_database_url, redis_url, delivery)
    running.start()
    yield
    running.stop()


@pytest.fixture
def db(scratch_database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(scratch_database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def spawn_worker(
    scratch_database_url: str, redis_url: str, settings: Settings, delivery: Delivery,
    tmp_path: Path,
) -> Iterator[WorkerProcess]:
    """Starts `trail worker` processes (one thread each); kills any still running at the end."""
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url,
        "REDIS_URL": redis_url,
        "SMTP_URL": str(settings.smtp_url),
        "TRAIL_MAIL_FROM": settings.mail_from,
        "TRAIL_BASE_URL": str(settings.base_url),
        "TRAIL_DATA_DIR": str(tmp_path),
        "TRAIL_EMAIL_NAMESPACE": delivery.namespace,
        "TRAIL_EMAIL_REQUEUE_AFTER": str(delivery.requeue_after),
        "TRAIL_EMAIL_MIN_BACKOFF": str(delivery.min_backoff),
        "TRAIL_EMAIL_MAX_BACKOFF": str(delivery.max_backoff),
    }
    started: list[subprocess.Popen[bytes]] = []

    def spawn() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-c", "from runtime.cli_email import worker_command as c; c()",
             "--threads", "1"],
            env=env, cwd=REPO_ROOT,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
