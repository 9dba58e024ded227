"""The processes and data around bench/http.py: the scratch database, subprocesses that are
always stopped, Trail's environment, and the users, projects and tickets it is seeded with (over
HTTP, as a client would)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import redis
from psycopg import sql

from bench import loadgen

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "trail_bench_http"
PASSWORD = "bench password 1"
STARTUP_TIMEOUT = 120.0


# --------------------------------------------------------------------------- processes


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def scratch_database(server_url: str, keep: bool) -> Iterator[str]:
    identifier = sql.Identifier(DATABASE)
    admin_url = _with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield _with_database(server_url, DATABASE)
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    identifier))


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    """Run `command` in a session of its own; on exit SIGTERM it, and kill whatever of its
    process tree is still there after a grace period."""
    with log.open("ab") as out:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    tree: list[psutil.Process] = []
    try:
        yield child.pid
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            tree = psutil.Process(child.pid).children(recursive=True)
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        for process in tree:  # psutil checks the pid is still the process it saw
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for(port: int, path: str, pid: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            break
        with contextlib.suppress(OSError, loadgen.HttpError):
            if loadgen.call_status(port, path) == 200:
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"port {port}{path} did not answer 200; log {log}:\n{tail}")


def trail_env(database_url: str, redis_url: str, data_dir: Path, namespace: str
              ) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRAIL_") and k not in ("DATABASE_URL", "REDIS_URL", "SMTP_URL")}
    # The API's counters (login failures, registration throttles) in the run's namespace too:
    # its keys go with the run's, and a run's sign-ups never count against the next one's.
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, TRAIL_DATA_DIR=str(data_dir),
               TRAIL_EMAIL_NAMESPACE=namespace, TRAIL_REDIS_NAMESPACE=namespace)
    return env


def trail_command() -> str:
    return shutil.which("trail") or str(Path(sys.executable).with_name("trail"))


def postmaster_pid(conn: psycopg.Connection[Any]) -> int:
    return psutil.Process(conn.info.backend_pid).ppid()


def redis_pid(client: redis.Redis) -> int | None:
    pid = client.info("server").get("process_id")
    return int(pid) if pid and psutil.pid_exists(int(pid)) else None


# --------------------------------------------------------------------------- seeding


def seed(port: int, tickets: int, projects: int, developers: int) -> tuple[str, loadgen.Seeded]:
    """An admin, `developers` developers, `projects` projects and `tickets` tickets with 1-3
    assignees each, all over HTTP; returns the first developer's token (the load's caller)."""
    call = loadgen.call
    _register(port, "Bench Admin", "admin@bench.example")  # the first account is the admin
    admin = _token(port, "admin@bench.example")
    developer_ids = []
    for n in range(developers):
        email = f"dev{n}@bench.example"
        user = _register(port, f"Bench Developer {n}", email)
        call(port, "PATCH", f"/users/{user['id']}", {"role": "developer"}, admin)
        developer_ids.append(user["id"])
    token = _token(port, "dev0@bench.example")
    project_ids = [call(port, "POST", "/projects", {"name": f"Bench Project {n}"}, admin,
                        201)["id"] for n in range(projects)]
    seeded = loadgen.Seeded(project_ids, [], developer_ids)
    seeded.tickets = loadgen.create_tickets(port, token, seeded, tickets, users=8)
    return token, seeded


def _register(port: int, name: str, email: str) -> Any:
    body = {"name": name, "email": email, "password": PASSWORD}
    return loadgen.call(port, "POST", "/auth/register", body, expect=201)


def _token(port: int, email: str) -> str:
    body = {"email": email, "password": PASSWORD}
    return str(loadgen.call(port, "POST", "/auth/token", body)["access_token"])


def wait_settled(port: int, timeout: float) -> float:
    """Wait until /health shows every projection at the head and no email waiting (the
    outbox projection included); returns the seconds waited."""
    begun = time.monotonic()
    while time.monotonic() - begun < timeout:
        health = loadgen.call(port, "GET", "/health")
        projections = health.get("projections") or {}
        if ("outbox" in projections and all(p["lag"] == 0 for p in projections.values())
                and health["outbox"]["pending"] == 0):
            return time.monotonic() - begun
        time.sleep(0.1)
    print(f"  !! the system did not settle within {timeout:.0f} s", flush=True)
    return time.monotonic() - begun
