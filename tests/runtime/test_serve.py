"""`trail serve` as a user runs it, against the local (or test) PostgreSQL and Redis so that it
starts without initialising embedded servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.services import REPO_ROOT

START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def _serve(port: int, data_dir: Path, database_url: str, redis_url: str,
           stderr: int) -> subprocess.Popen[str]:
    env = {**os.environ, "TRAIL_DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
           "REDIS_URL": redis_url,
           # Its own queues: serve's email worker must not take other tests' messages.
           "TRAIL_EMAIL_NAMESPACE": f"trail-serve-test-{uuid.uuid4().hex[:8]}"}
    return subprocess.Popen(["uv", "run", "trail", "serve", "--port", str(port)], cwd=REPO_ROOT,
                            env=env, text=True, stdout=subprocess.PIPE, stderr=stderr)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _trail_children(root: int) -> dict[str, int]:
    """The niceness of each `trail` subcommand running under `root`, by subcommand."""
    parents: dict[int, int] = {}
    commands: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found, waiting = {}, [root]
    while waiting:
        parent = waiting.pop()
        for pid in (p for p, of in parents.items() if of == parent):
            waiting.append(pid)
            command = commands[pid]
            if "runtime.cli" in command:
                found[command[command.index("runtime.cli") + 1]] = os.getpriority(
                    os.PRIO_PROCESS, pid)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_busy_port_is_one_clear_line_and_exit_1_before_anything_starts(
    busy_port: int, tmp_path: Path, database_url: str, redis_url: str
) -> None:
    process = _serve(busy_port, tmp_path / "data", database_url, redis_url,
                     stderr=subprocess.STDOUT)
    output, _ = process.communicate(timeout=60)
    lines = [line for line in output.splitlines() if line.strip()]
    assert process.returncode == 1
    assert lines == [
        f"Error: port {busy_port} on 127.0.0.1 is already in use (another Trail or another "
        "program); stop it or choose another port with --port or TRAIL_PORT"
    ]
    assert not (tmp_path / "data").exists()


def test_it_announces_its_url_once_its_api_answers_and_stops_cleanly_on_sigterm(
    tmp_path: Path, scratch_database_url: str, redis_url: str
) -> None:
    port = _free_port()
    # stderr carries the children's logs; only what serve itself says to the user is checked.
    process = _serve(port, tmp_path / "data", scratch_database_url, redis_url,
                     stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    lines: list[str] = []
    announced = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Trail is running at"):
                announced.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert announced.wait(START_TIMEOUT), f"never announced; output so far: {lines}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert response.status == 200
        # The API runs below the log's followers (TRAIL_API_NICENESS, 5 by default).
        children = _trail_children(process.pid)
        assert children.keys() >= {"api", "projector", "notifier", "worker", "webhooks"}
        assert children["api"] == min(19, children["projector"] + 5)  # 19 is the lowest
        assert {children[k] for k in ("notifier", "worker", "webhooks")} == {
            children["projector"]}
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(5)
    database = urlsplit(scratch_database_url)
    assert lines[0] == "Starting Trail…"
    assert lines[1] == f"PostgreSQL: DATABASE_URL, {database.hostname}:{database.port}" \
                       f"{database.path}"
    assert lines[2].startswith("Redis: REDIS_URL, ")
    assert f"Trail is running at http://127.0.0.1:{port}  (API docs: " \
           f"http://127.0.0.1:{port}/docs)" in lines
    assert lines[-1] == "Trail stopped."
