"""Fixtures for the application-service tests, all against the real PostgreSQL.

`app` (tests/conftest.py) is one Trail per module on its own scratch database; `admin` is the first
account registered there. `new_trail` builds a Trail on a database of its own for tests that need
an empty system (the first-admin rule, approval mode) or an injected clock.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from eventsourcing.persistence import IntegrityError
from psycopg import sql

from commands import credentials
from commands.base import Trail
from commands.messages import ChangeUser, CreateProject, CreateTicket, RegisterUser
from commands.permissions import Actor
from commands.services import Commands, build_commands
from domain.values import Role
from runtime.embedded import postgres_env
from runtime.migrate import migrate
from tests.services import create_scratch_database

PASSWORD = "correct horse 42"


@pytest.fixture(scope="module", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Argon2 at its cheapest for these tests (the default costs ~0.1 s of CPU and 64 MiB per
    hash, and the suite hashes a few hundred times). Same algorithm and code path; production
    parameters are untouched. Module-scoped and autouse, so it is in place before the module's
    Trail is built and undone after it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            credentials, "PasswordHasher",
            lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
        yield


def email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def register(app: Commands, name: str = "Some Body", address: str | None = None,
             password: str = PASSWORD) -> uuid.UUID:
    return app.accounts.register(
        RegisterUser(name=name, email=address or email(), password=password)
    ).id


def reporter(app: Commands, name: str = "Rita Reporter") -> Actor:
    actor = app.accounts.actor(register(app, name))
    assert actor.role is Role.REPORTER
    return actor


def developer(app: Commands, admin: Actor, name: str = "Dev Eloper") -> Actor:
    user_id = register(app, name)
    app.accounts.change_user(admin, ChangeUser(user_id=user_id, role=Role.DEVELOPER))
    actor = app.accounts.actor(user_id)
    assert actor.role is Role.DEVELOPER
    return actor


def project(app: Commands, admin: Actor, name: str | None = None, **fields: Any) -> uuid.UUID:
    name = name or f"Project {uuid.uuid4().hex[:8]}"
    return app.projects.create(admin, CreateProject(name=name, **fields)).id


def ticket(app: Commands, actor: Actor, project_id: uuid.UUID, title: str = "Fix it",
           **fields: Any) -> uuid.UUID:
    return app.tickets.create(
        actor, CreateTicket(project_id=project_id, title=title, **fields)
    ).id


class CountingTrail(Trail):
    """A Trail that counts the saves that lost a race to a concurrent writer (each one makes the
    service reload and decide again)."""

    name = "trail"  # eventsourcing names a subclass after itself, and its tables after that

    def __init__(self, env: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.conflicts = 0
        self._conflicts_lock = threading.Lock()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        try:
            return super().save(*objs, **kwargs)
        except IntegrityError:
            with self._conflicts_lock:
                self.conflicts += 1
            raise


def small_pool(env: dict[str, str], grows_to: int) -> dict[str, str]:
    """Open two connections and grow on demand: the server's connections are shared."""
    return {**env, "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": str(grows_to - 2)}


class Racing(Commands):
    """The write side on a `CountingTrail`."""

    store: CountingTrail

    @property
    def conflicts(self) -> int:
        return self.store.conflicts


@pytest.fixture(scope="module")
def racing(trail_env: dict[str, str]) -> Iterator[Racing]:
    """A second write side on the module's database (as a second API process would be)."""
    built = build_commands(CountingTrail(small_pool(trail_env, grows_to=20)))
    racing = Racing(**{f.name: getattr(built, f.name) for f in dataclasses.fields(built)})
    yield racing
    racing.close()


@pytest.fixture(scope="module")
def admin(app: Commands) -> Actor:
    """The first account of the module's system, hence its admin."""
    actor = app.accounts.actor(register(app, "Ada Admin"))
    assert actor.role is Role.ADMIN, "the admin fixture must register the module's first user"
    return actor


class Clock:
    """An injectable clock that moves only when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def new_trail(database_url: str, request: pytest.FixtureRequest
              ) -> Iterator[Callable[..., Commands]]:
    """Build write sides on empty databases of their own, closed and dropped after the test."""
    made: list[tuple[Commands, str]] = []
    test = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:30]

    def make(**kwargs: Any) -> Commands:
        name = f"t_cmd_{test}_{uuid.uuid4().hex[:8]}"
        url = create_scratch_database(database_url, name)
        migrate(url)
        trail = build_commands(Trail(small_pool(postgres_env(url), grows_to=8)), **kwargs)
        made.append((trail, name))
        return trail

    yield make
    for trail, name in made:
        trail.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
