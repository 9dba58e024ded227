"""Migrations: a database made before they existed upgrades in place, keeps its data, and a
second run applies nothing; a fresh database gets every table the processes need."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg

from commands.base import Trail
from commands.numbering import TicketNumbers
from runtime.embedded import postgres_env
from runtime.migrate import MIGRATIONS, migrate
from tests.services import create_scratch_database

LEGACY_SCHEMA = Path(__file__).with_name("legacy_schema.sql")
ALL = sorted(path.stem for path in MIGRATIONS.glob("*.sql"))


def _scratch(database_url: str, label: str) -> str:
    return create_scratch_database(database_url, f"t_migrate_{label}_{uuid.uuid4().hex[:8]}")


def test_a_database_made_before_migrations_upgrades_in_place(database_url: str) -> None:
    url = _scratch(database_url, "legacy")
    project_id, user_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LEGACY_SCHEMA.read_text())
        conn.execute("SET search_path TO public")
        conn.execute("INSERT INTO credentials VALUES (%s, 'argon2-hash', now())", (user_id,))
        conn.execute("INSERT INTO ticket_numbers VALUES (%s, 41)", (project_id,))

    assert migrate(url) == ALL
    assert migrate(url) == []

    with psycopg.connect(url, autocommit=True) as conn:
        hashes = conn.execute("SELECT password_hash FROM credentials").fetchall()
        assert hashes == [("argon2-hash",)]
        # The history model was dropped with all its traces.
        assert conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\\_history\\_%'"
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT name FROM projection_versions WHERE name = 'history'"
        ).fetchall() == []
        # Every other model is untouched.
        assert conn.execute("SELECT to_regclass('public.tickets') IS NOT NULL").fetchone() == (
            True,)
    store = Trail(postgres_env(url))
    try:
        assert TicketNumbers(store.datastore).next(project_id) == 42
    finally:
        store.close()


def test_a_fresh_database_gets_every_table(database_url: str) -> None:
    url = _scratch(database_url, "fresh")
    assert migrate(url) == ALL
    with psycopg.connect(url, autocommit=True) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"trail_events", "credentials", "password_reset_tokens", "ticket_numbers",
            "api_idempotency_keys"} <= tables


def test_processes_starting_at_once_migrate_one_at_a_time(database_url: str) -> None:
    # `trail serve` starts its children together and each migrates: on a fresh database their
    # DDL raced ("tuple concurrently updated") and some of them died.
    url = create_scratch_database(database_url, f"t_migrate_race_{uuid.uuid4().hex[:8]}")
    errors: list[BaseException] = []

    def start_up() -> None:
        try:
            migrate(url)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert migrate(url) == []
