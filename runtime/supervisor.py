"""Runs Trail's processes as children of one parent and keeps them running.

`trail serve` uses the same process commands as production (`trail api`, `trail projector`, …),
so the embedded default exercises the same code paths; the parent only starts, restarts and
stops them.

Restart policy: a child that lived `healthy_after` seconds had started well, so when it dies it
comes back after `first_delay`. One that dies sooner is failing to start: each such crash in a
row doubles its delay, and after `crash_limit` of them the supervisor stops everything and
reports the child's last error lines, since restarting it again would not help.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

log = logging.getLogger("trail.supervisor")

# Enough to hold a Python traceback's last frames and its error line.
TAIL_LINES = 12


@dataclass(frozen=True)
class RestartPolicy:
    healthy_after: float = 10.0
    first_delay: float = 1.0
    max_delay: float = 30.0
    crash_limit: int = 5
    poll_interval: float = 0.5
    stop_grace: float = 10.0

    def delay(self, early_crashes: int) -> float:
        """Wait before restarting a child after its `early_crashes`-th crash in a row."""
        return min(self.max_delay, self.first_delay * 2 ** max(0, early_crashes - 1))


@dataclass(frozen=True)
class ChildSpec:
    name: str
    command: tuple[str, ...]


def trail_command(*args: str) -> tuple[str, ...]:
    """The command line of a `trail` subcommand, run by this interpreter."""
    return (sys.executable, "-m", "runtime.cli", *args)


@dataclass(frozen=True)
class ChildExit:
    """What the supervisor decided when a child exited."""

    name: str
    code: int
    lived: float
    # Crashes during start-up in a row, this one included; 0 after a healthy run.
    early_crashes: int
    # None when the supervisor gave up.
    restart_delay: float | None


@dataclass(frozen=True)
class CrashLoop:
    """A child kept dying right after it started; the supervisor stopped everything."""

    name: str
    crashes: int
    healthy_after: float
    last_lines: list[str]

    def report(self) -> str:
        lines = "\n".join(f"    {line}" for line in self.last_lines) or "    (nothing)"
        return (f"{self.name} crashed {self.crashes} times in a row, each within "
                f"{self.healthy_after:g} s of starting. Its last error output:\n{lines}")


class _StderrTail:
    """Passes a child's stderr through to ours as it comes and keeps its last lines."""

    # Enough for TAIL_LINES lines of a crash report; older output is only passed through.
    _KEEP = 16 * 1024

    def __init__(self, stream: IO[bytes]) -> None:
        self._tail = b""
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        # Whole chunks, not lines: the API's access log made a per-line decode, write and flush
        # cost half a millisecond of this process's CPU per request.
        out = sys.stderr.buffer if hasattr(sys.stderr, "buffer") else None
        with stream:
            for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
                if out is not None:
                    out.write(chunk)
                    out.flush()
                else:
                    sys.stderr.write(chunk.decode("utf-8", "replace"))
                self._tail = (self._tail + chunk)[-self._KEEP:]

    def last_lines(self) -> list[str]:
        # The pipe ends when the child exits; a grandchild still holding it must not block us.
        self._thread.join(timeout=2)
        lines = self._tail.decode("utf-8", "replace").splitlines()
        return [line.rstrip() for line in lines if line.strip()][-TAIL_LINES:]


class Child:
    def __init__(self, spec: ChildSpec, env: Mapping[str, str]) -> None:
        self.spec = spec
        self.env = dict(env)
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr: _StderrTail | None = None
        self.started_at = 0.0
        self.early_crashes = 0
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.spec.command, env=self.env, stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        self.stderr = _StderrTail(self.process.stderr)
        self.started_at = time.monotonic()
        self.restart_at = None

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def last_lines(self) -> list[str]:
        return [] if self.stderr is None else self.stderr.last_lines()

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
        # Let its last words reach the terminal before the parent moves on.
        self.last_lines()


class Supervisor:
    """Starts every child, restarts any that dies (see RestartPolicy), stops them on request.

    `on_exit`, if given, is told every decision: how a caller (the tests) observes the policy.
    """

    def __init__(self, specs: Sequence[ChildSpec], env: Mapping[str, str],
                 policy: RestartPolicy | None = None,
                 on_exit: Callable[[ChildExit], None] | None = None) -> None:
        self.children = [Child(spec, env) for spec in specs]
        self.policy = policy or RestartPolicy()
        self.on_exit = on_exit
        self.stopping = threading.Event()

    def is_running(self, name: str) -> bool:
        return any(child.spec.name == name and child.process is not None
                   and child.exited() is None for child in self.children)

    def run(self) -> CrashLoop | None:
        """Supervise until `stopping` is set (None) or a child crash-loops; children are
        stopped either way when this returns."""
        try:
            for child in self.children:
                child.start()
            while not self.stopping.wait(self.policy.poll_interval):
                for child in self.children:
                    crash_loop = self._watch(child)
                    if crash_loop is not None:
                        return crash_loop
            return None
        finally:
            self.stop()

    def _watch(self, child: Child) -> CrashLoop | None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.start()
            return None
        code = child.exited()
        if code is None:
            return None
        lived = now - child.started_at
        if lived >= self.policy.healthy_after:
            child.early_crashes = 0
        else:
            child.early_crashes += 1
        name = child.spec.name
        if child.early_crashes >= self.policy.crash_limit:
            self._tell(ChildExit(name, code, lived, child.early_crashes, None))
            log.error("%s exited with code %s after %.1f s, its crash number %s in a row "
                      "during start-up; giving up", name, code, lived, child.early_crashes)
            return CrashLoop(name, child.early_crashes, self.policy.healthy_after,
                             child.last_lines())
        delay = self.policy.delay(child.early_crashes)
        self._tell(ChildExit(name, code, lived, child.early_crashes, delay))
        log.error("%s exited with code %s after %.1f s; restarting it in %.1f s", name, code,
                  lived, delay)
        child.restart_at = now + delay
        return None

    def _tell(self, event: ChildExit) -> None:
        if self.on_exit is not None:
            self.on_exit(event)

    def stop(self) -> None:
        running = [child.spec.name for child in self.children if child.exited() is None]
        if running:
            log.info("stopping %s", ", ".join(running))
        for child in self.children:
            child.terminate()
        deadline = time.monotonic() + self.policy.stop_grace
        for child in self.children:
            child.wait_or_kill(deadline)


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    return env
