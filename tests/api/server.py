"""A real Trail API process for the HTTP tests: uvicorn in a subprocess, built by the same
factory `trail api` uses, with every read model (and the outbox) projected in a thread."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import httpx

from projections.catalog import READ_MODELS
from projections.outbox import Outbox
from projections.projector import run_projections
from projections.webhooks import WebhookRouter

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0


_RUN_UVICORN = """
import sys
import uvicorn
from runtime.http_limits import PROTOCOL
uvicorn.run(
    "runtime.cli_api:app_from_environment", factory=True, host="127.0.0.1",
    port=int(sys.argv[1]), workers=int(sys.argv[2]), http=PROTOCOL, proxy_headers=False,
    log_level="warning", timeout_graceful_shutdown=2, ws_per_message_deflate=False,
    ws_max_size=65536,
)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def projecting(trail_env: Mapping[str, str]) -> Iterator[None]:
    """Every read model and follower (the outbox, webhook deliveries), kept current while the
    block runs."""
    stopping = threading.Event()
    thread = threading.Thread(
        target=run_projections,
        args=((*READ_MODELS, Outbox, WebhookRouter), trail_env, stopping),
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join(timeout=30)


@contextlib.contextmanager
def api_process(
    env: Mapping[str, str], *, workers: int = 1, stderr: IO[bytes] | None = None
) -> Iterator[str]:
    """`uvicorn runtime.cli_api:app_from_environment` on a free port; yields its URL."""
    port = free_port()
    # uvicorn.run rather than its command line, which cannot name `trail api`'s own HTTP
    # protocol (the bound on a request's head).
    command = [sys.executable, "-c", _RUN_UVICORN, str(port), str(workers)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **env}, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API process exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the API did not answer on {url} within {STARTUP_TIMEOUT:.0f} s")
