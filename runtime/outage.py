"""Starting a process while the database or Redis is away: it waits for them, trying again with
a growing pause, instead of dying. `trail serve` would otherwise count each such death as a
crash during start-up and, after a few, give up on everything; a process on its own would need
a person to start it again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from workers.outage import OUTAGE

T = TypeVar("T")

log = logging.getLogger("trail.outage")

# Pauses between tries: short at first (a restart takes a second or two), then capped.
PAUSES = (0.5, 1.0, 2.0, 5.0)


class Stopped(Exception):
    """Asked to stop while still waiting for a service."""


def until_available(start: Callable[[], T], what: str,
                    stopping: threading.Event | None = None) -> T:
    """`start()`, tried again while it fails because a service is unreachable.

    Raises `Stopped` when `stopping` is set first; any other error goes through at once.
    """
    stopping = stopping or threading.Event()
    failures = 0
    while True:
        try:
            return start()
        except OUTAGE as error:
            pause = PAUSES[min(failures, len(PAUSES) - 1)]
            failures += 1
            log.warning("%s: a service is unavailable (%s); trying again in %.1f s",
                        what, str(error).strip() or type(error).__name__, pause)
            if stopping.wait(pause):
                raise Stopped(what) from error
