"""`trail migrate`: create or upgrade the database's schema (every process also does it when it
starts, so this is for operators who want it done, and seen, beforehand)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from runtime.embedded import start_postgres
from runtime.migrate import migrate
from runtime.settings import settings as load_settings


@contextlib.contextmanager
def database_url() -> Iterator[str]:
    """DATABASE_URL, or the embedded PostgreSQL of TRAIL_DATA_DIR (started, or the one a running
    `trail serve` uses). Never starts Redis."""
    settings = load_settings()
    if settings.database_url:
        yield settings.database_url
        return
    with start_postgres(settings.data_dir) as postgres:
        yield postgres.url


@click.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema."""
    with database_url() as url:
        applied = migrate(url)
    click.echo(f"applied {', '.join(applied)}" if applied else "the schema is up to date")
