"""Helpers for the runtime tests."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest


@contextlib.contextmanager
def embedded_data_dir() -> Iterator[Path]:
    """A data dir for an embedded PostgreSQL, outside pytest's temporary tree.

    As root the server runs as another user, who must pass through every parent directory;
    each pytest session (another one may start meanwhile) resets /tmp/pytest-of-<user> to 0700.
    """
    path = Path(tempfile.mkdtemp(prefix="trail-runtime-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait_until_dead(pid: int, timeout: float = 10.0) -> None:
    """Return once `pid` has exited (a zombie counts: nobody may reap a daemonised server)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    pytest.fail(f"pid {pid} still runs {timeout} s after SIGKILL")
