"""Runs Trail's processes as children of one parent and keeps them running.

`trail serve` uses the same process commands as production (`trail api`, `trail projector`, …),
so the embedded default exercises the same code paths; the parent only starts, restarts and
stops them.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence

import msgspec

log = logging.getLogger("trail.supervisor")

RESTART_BACKOFF_MAX = 30.0
STOP_GRACE = 10.0


class ChildSpec(msgspec.Struct, frozen=True):
    name: str
    args: tuple[str, ...]


class Child:
    def __init__(self, spec: ChildSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self.env = dict(env)
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.started_at = 0.0

    def start(self) -> None:
        command = [sys.executable, "-m", "runtime.cli", *self.spec.args]
        self.process = subprocess.Popen(command, env=self.env)
        self.started_at = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def backoff(self) -> float:
        # A child that ran for a while before dying starts over from a short delay.
        if time.monotonic() - self.started_at > 60:
            self.restarts = 0
        self.restarts += 1
        return float(min(RESTART_BACKOFF_MAX, 2 ** (self.restarts - 1)))

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", self.spec.name)
            self.process.kill()
            self.process.wait()


class Supervisor:
    def __init__(self, specs: Sequence[ChildSpec], env: Mapping[str, str]) -> None:
        self.children = [Child(spec, env) for spec in specs]
        self.stopping = threading.Event()

    def run(self) -> None:
        """Start every child, restart any that dies, and stop them all on SIGINT/SIGTERM."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        for child in self.children:
            child.start()
        restart_at: dict[str, float] = {}
        while not self.stopping.wait(0.5):
            for child in self.children:
                self._watch(child, restart_at)
        self.stop()

    def _watch(self, child: Child, restart_at: dict[str, float]) -> None:
        code = child.exited()
        if code is None:
            return
        name = child.spec.name
        if name not in restart_at:
            delay = child.backoff()
            log.error("%s exited with code %s; restarting in %.0fs", name, code, delay)
            restart_at[name] = time.monotonic() + delay
        elif time.monotonic() >= restart_at[name]:
            del restart_at[name]
            child.start()

    def stop(self) -> None:
        for child in self.children:
            child.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for child in self.children:
            child.wait_or_kill(deadline)


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    return env
