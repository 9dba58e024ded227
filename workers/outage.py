"""Which errors mean "a service Trail depends on is unreachable right now", as opposed to a bug
or bad data: every long-running process waits these out and tries again instead of dying."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
import redis
from eventsourcing import persistence

# psycopg's own, and the eventsourcing library's wrappers of them (its recorder raises these).
# OperationalError covers a refused or dropped connection, a server shutting down or starting
# up, and a pool that found no connection in time (psycopg_pool.PoolTimeout).
DATABASE_DOWN: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)

log = logging.getLogger("trail.outage")

BROKER_DOWN: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)

OUTAGE: tuple[type[Exception], ...] = DATABASE_DOWN + BROKER_DOWN


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGE)


# Pauses between reconnection attempts: short at first (a restart takes a second or two), capped.
PAUSES = (0.2, 0.5, 1.0, 2.0, 5.0)
# A run that lasted this long had reconnected: the next loss starts the pauses over.
RECONNECTED_AFTER = 10.0


def ride_out(run: Callable[[threading.Event], None], stopping: threading.Event,
             what: str) -> None:
    """`run(stopping)` until it returns, running it again after an outage with a growing
    pause; any other error goes through."""
    failures = 0
    while not stopping.is_set():
        began = time.monotonic()
        try:
            run(stopping)
            return
        except OUTAGE as error:
            if time.monotonic() - began >= RECONNECTED_AFTER:
                failures = 0
            pause = PAUSES[min(failures, len(PAUSES) - 1)]
            failures += 1
            log.warning("%s lost a service (%s); reconnecting in %.1f s", what,
                        str(error).strip() or type(error).__name__, pause)
            stopping.wait(pause)
