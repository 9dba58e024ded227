"""Fixtures for the read-side tests: a Trail app (tests/conftest.py) on a scratch database per
module, the people who act in it, and helpers to run the projections and read their views."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from commands.messages import ChangeUser, CreateProject, CreateTicket, RegisterUser
from commands.permissions import Actor
from commands.services import Commands
from domain.values import Role
from projections.catalog import READ_MODELS
from projections.runner import catch_up
from runtime.embedded import postgres_env

PASSWORD = "correct horse 42"


def register(app: Commands, name: str) -> uuid.UUID:
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    return app.accounts.register(RegisterUser(name=name, email=email, password=PASSWORD)).id


class People:
    """An admin, two developers and a reporter, registered once per module."""

    def __init__(self, app: Commands) -> None:
        self.admin = app.accounts.actor(register(app, "Ada Admin"))
        assert self.admin.role is Role.ADMIN, "the module's database must start empty"
        self.dev = self._developer(app, "Dev One")
        self.dev2 = self._developer(app, "Dev Two")
        self.reporter = app.accounts.actor(register(app, "Rita Reporter"))

    def _developer(self, app: Commands, name: str) -> Actor:
        user_id = register(app, name)
        app.accounts.change_user(self.admin, ChangeUser(user_id=user_id, role=Role.DEVELOPER))
        return app.accounts.actor(user_id)


@pytest.fixture(scope="module")
def trail_env(scratch_database_url: str) -> dict[str, str]:
    """The shared settings with a small pool: the test server's connection slots are shared."""
    return {**postgres_env(scratch_database_url),
            "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "4"}


@pytest.fixture(scope="module")
def people(app: Commands) -> People:
    return People(app)


@pytest.fixture(scope="module")
def conn(scratch_database_url: str) -> Iterator[psycopg.Connection[DictRow]]:
    with psycopg.connect(scratch_database_url, autocommit=True, row_factory=dict_row) as c:
        yield c


def new_project(app: Commands, admin: Actor, **fields: Any) -> uuid.UUID:
    name = fields.pop("name", None) or f"Project {uuid.uuid4().hex[:8]}"
    return app.projects.create(admin, CreateProject(name=name, **fields)).id


def new_ticket(app: Commands, actor: Actor, project_id: uuid.UUID, title: str = "Fix it",
               **fields: Any) -> uuid.UUID:
    return app.tickets.create(actor, CreateTicket(project_id=project_id, title=title, **fields)).id


def project_all(env: dict[str, str], batch_size: int | None = None) -> None:
    """Bring every read model up to the head of the log."""
    for model in READ_MODELS:
        catch_up(model, env, batch_size=batch_size)


def snapshot(conn: psycopg.Connection[DictRow]) -> dict[str, list[str]]:
    """Every row of every read model's public view, in a canonical order."""
    tables: dict[str, list[str]] = {}
    for model in READ_MODELS:
        for table in model.tables:
            rows = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            tables[table] = sorted(repr(sorted(row.items())) for row in rows)
    return tables
