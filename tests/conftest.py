"""Shared fixtures: real PostgreSQL and Redis (local ones when they answer, embedded otherwise),
a scratch database per test module, and Trail's write side on it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.internal.conjecture import engine as hypothesis_engine

from commands.base import Trail
from commands.services import Commands, build_commands
from runtime.embedded import postgres_env
from runtime.migrate import migrate
from tests.services import (
    create_scratch_database,
    drop_scratch_databases,
    test_database_url,
    test_redis_url,
)

# A failing property shrinks for up to five minutes by default (hypothesis makes the bound
# monkeypatchable for this): behind `-x` that hides every later test and looks like a hang.
# Ten seconds of shrinking still gives a small example, and the seed to go further by hand.
hypothesis_engine.MAX_SHRINKING_SECONDS = 10
# Examples here talk to PostgreSQL, whose timing varies with the machine's load: a per-example
# deadline would fail on a busy CI, not on a bug. `print_blob` lets a failure be replayed
# exactly (@reproduce_failure).
hypothesis_settings.register_profile("trail", deadline=None, print_blob=True)
hypothesis_settings.load_profile("trail")


@pytest.fixture(scope="session", autouse=True)
def _scratch_databases_dropped() -> Iterator[None]:
    """The run's scratch databases go at its end (each module's stays for the whole run: the
    processes a module starts may outlive its last test by a moment)."""
    yield
    drop_scratch_databases()


@pytest.fixture(scope="session")
def database_url() -> str:
    return test_database_url()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return test_redis_url()


@pytest.fixture(scope="module")
def scratch_database_url(database_url: str, request: pytest.FixtureRequest) -> str:
    """An empty database for the module, migrated as every Trail process finds it."""
    module = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.lower())[-40:]
    url = create_scratch_database(database_url, f"t_{module}_{uuid.uuid4().hex[:8]}")
    migrate(url)
    return url


@pytest.fixture(scope="module")
def trail_env(scratch_database_url: str) -> dict[str, str]:
    return postgres_env(scratch_database_url)


@pytest.fixture(scope="module")
def app(trail_env: dict[str, str]) -> Iterator[Commands]:
    commands = build_commands(Trail(trail_env))
    yield commands
    commands.close()
