"""Every long-running process rides out a database and a broker outage: started while both are
down it waits for them, cut off while running it reconnects, and none of them dies (under
`trail serve` a death during start-up counted towards giving up on everything).

PostgreSQL and Redis go down for real as far as the processes can tell: a proxy in front of
each cuts every connection and refuses new ones, then comes back on the same port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from projections.catalog import READ_MODELS
from projections.positions import wait_for_position
from tests.email.support import Mailbox, SmtpServer, free_port
from tests.runtime.proxy import Proxy
from tests.services import REPO_ROOT

KINDS = ("projector", "notifier", "worker", "webhooks", "api")
PASSWORD = "correct horse 42"
# Long enough for every process to have met the outage (connections cut, tries refused).
OUTAGE = 6.0
# What runtime/outage.py logs while a process waits for a service at start-up.
WAITING = "a service is unavailable"


def _via(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    credentials, _, _ = parts.netloc.rpartition("@")
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}" if credentials else host))


@pytest.fixture
def proxies(scratch_database_url: str, redis_url: str) -> Iterator[tuple[Proxy, Proxy]]:
    database, redis = urlsplit(scratch_database_url), urlsplit(redis_url)
    pair = (Proxy(database.hostname or "127.0.0.1", database.port or 5432),
            Proxy(redis.hostname or "127.0.0.1", redis.port or 6379))
    yield pair
    for proxy in pair:
        proxy.down()


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpServer, Mailbox]]:
    mailbox = Mailbox()
    server = SmtpServer(mailbox)
    server.start()
    yield server, mailbox
    server.stop()


def _start(kind: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    args = ["api", "--port", str(port)] if kind == "api" else [kind]
    return subprocess.Popen([sys.executable, "-m", "runtime.cli", *args], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def _alive(processes: dict[str, subprocess.Popen[bytes]], logs: Path) -> None:
    dead = {kind: p.returncode for kind, p in processes.items() if p.poll() is not None}
    if dead:
        tails = {kind: (logs / f"{kind}.log").read_text(errors="replace")[-1500:]
                 for kind in dead}
        pytest.fail(f"processes died: {dead}\n{tails}")


def _until(check: object, timeout: float = 60.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def test_every_process_waits_out_and_reconnects_after_database_and_broker_outages(
    proxies: tuple[Proxy, Proxy], smtp: tuple[SmtpServer, Mailbox], scratch_database_url: str,
    redis_url: str, tmp_path: Path,
) -> None:
    database, redis = proxies
    server, mailbox = smtp
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": _via(scratch_database_url, database),
           "REDIS_URL": _via(redis_url, redis), "SMTP_URL": server.url,
           "TRAIL_DATA_DIR": str(tmp_path / "data"), "TRAIL_SECRET_KEY": "ride-out-" * 4,
           "TRAIL_EMAIL_NAMESPACE": f"trail-ride-out-{uuid.uuid4().hex[:8]}",
           "TRAIL_WORKER_THREADS": "2"}
    # Started while both are down: each must wait, not die.
    processes = {kind: _start(kind, env, port, tmp_path / f"{kind}.log") for kind in KINDS}
    try:
        # Each that needs the database at start has found it away and is waiting for it.
        for kind in ("projector", "notifier", "webhooks", "api"):
            _until(lambda kind=kind: processes[kind].poll() is not None or WAITING in (
                tmp_path / f"{kind}.log").read_text(errors="replace"))
        time.sleep(1)
        _alive(processes, tmp_path)
        database.up()
        redis.up()
        _until(lambda: _healthy(api))

        client = httpx.Client(base_url=api, timeout=15)
        user = client.post("/auth/register", json={"name": "Rio Rideout",
                                                   "email": "rio@example.com",
                                                   "password": PASSWORD})
        assert user.status_code == 201, user.text
        token = client.post("/auth/token", json={"email": "rio@example.com",
                                                 "password": PASSWORD}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        project = client.post("/projects", json={"name": "Ride out", "key": "RID"})
        assert project.status_code == 201, project.text

        # Cut off while running: each must reconnect once the services are back.
        database.down()
        redis.down()
        time.sleep(OUTAGE)
        _alive(processes, tmp_path)
        database.up()
        redis.up()
        _until(lambda: _healthy(api))

        def create() -> httpx.Response:
            return client.post("/tickets", json={
                "project_id": project.json()["id"], "title": "After the outage",
                "assignee_ids": [user.json()["id"]]})

        ticket = create()
        # A pooled connection the outage cut may still answer 503 once: try again, as told.
        while ticket.status_code == 503:
            ticket = create()
        assert ticket.status_code == 201, ticket.text
        position = int(ticket.headers["Trail-Position"])
        names = [model.name for model in READ_MODELS] + ["outbox", "webhooks"]
        assert wait_for_position(scratch_database_url, names, position, 60)
        mailbox.wait_for(lambda a: a.message["X-Trail-Ticket-Id"] == ticket.json()["id"], 1,
                         timeout=60)
        _alive(processes, tmp_path)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
