"""Which errors mean "a service Trail depends on is unreachable right now", as opposed to a bug
or bad data: every long-running process waits these out and tries again instead of dying."""

from __future__ import annotations

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

BROKER_DOWN: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)

OUTAGE: tuple[type[Exception], ...] = DATABASE_DOWN + BROKER_DOWN


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGE)
