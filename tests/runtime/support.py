"""Helpers for the runtime tests."""

from __future__ import annotations

import time

import psutil
import pytest


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
