"""Schema work, done once before anything else runs: `trail migrate`, and every start-up.

The events table is the eventsourcing library's own (created by its recorder, idempotently);
every other table that cannot be rebuilt from the log (credentials, reset tokens, ticket
numbers, idempotency keys) is created and changed by the numbered migrations in
`runtime/migrations/`, applied with yoyo under its lock, so concurrent start-ups apply each
migration once. Read models are not migrated: they are rebuilt from the log (blue/green).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from yoyo import get_backend, read_migrations

from commands.base import Trail
from runtime.embedded import postgres_env

MIGRATIONS = Path(__file__).parent / "migrations"

# Every process migrates at start-up and `trail serve` starts several at once. yoyo's lock
# covers only its migrations: the event store's DDL (a CREATE OR REPLACE FUNCTION among it) run
# by two sessions at once failed with "tuple concurrently updated". The whole of `migrate` runs
# under this session lock instead, one process at a time; it goes with the connection.
MIGRATE_LOCK = 0x7472_6169_6C00_0001

# yoyo logs every step at INFO; what was applied is reported by the callers, once.
logging.getLogger("yoyo").setLevel(logging.WARNING)


def migrate(database_url: str) -> list[str]:
    """Bring the database's schema up to date; returns the ids of the migrations applied."""
    with psycopg.connect(database_url, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
        return _migrate(database_url)


def _migrate(database_url: str) -> list[str]:
    store = Trail(postgres_env(database_url))
    try:
        store.create_schema()
    finally:
        store.close()
    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def migration_ids() -> tuple[str, ...]:
    """Every migration this code ships, by id: what a ready database has applied."""
    return tuple(m.id for m in read_migrations(str(MIGRATIONS)))


def _yoyo_url(database_url: str) -> str:
    """yoyo picks its driver from the scheme: psycopg 3 is `postgresql+psycopg`."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))
