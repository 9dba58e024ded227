"""PostgreSQL and Redis for the test suite: the local servers when they answer, embedded otherwise.

Tests never skip for a missing service: without a local server they start the same embedded
engines `trail serve` uses, with their data under `<repo>/.trail-test/`.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from runtime.embedded import start_postgres, start_redis

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA_DIR = REPO_ROOT / ".trail-test"
# Two checkouts testing at once on one machine set these apart (the CI run keeps the defaults).
TEST_DATABASE = os.environ.get("TRAIL_TEST_DATABASE", "trail_test")
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# A developer's local Redis may hold real data in db 0; tests keep to db 15.
LOCAL_REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('TRAIL_TEST_REDIS_DB', '15')}"
# PostgreSQL silently truncates longer identifiers, which would break the returned URL.
_MAX_IDENTIFIER_BYTES = 63


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error as error:
        logger.info("no usable PostgreSQL at %s (%s); using the embedded one", url, error)
        return False


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2,
                                  retry=Retry(NoBackoff(), 0))
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError as error:
        logger.info("no usable Redis at %s (%s); using the embedded one", url, error)
        return False
    finally:
        client.close()


def _ensure_database(server_url: str, name: str) -> None:
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@functools.cache
def test_database_url() -> str:
    """URL of the test database (`trail_test`) on the local PostgreSQL, or on an embedded one."""
    if _postgres_answers(LOCAL_POSTGRES_URL):
        server_url = LOCAL_POSTGRES_URL
    else:
        service = start_postgres(TEST_DATA_DIR)
        # Stops it only if this process started it (a `trail serve` on the dir keeps its own).
        atexit.register(service.stop)
        server_url = service.url
    _ensure_database(server_url, TEST_DATABASE)
    return _with_database(server_url, TEST_DATABASE)


@functools.cache
def test_redis_url() -> str:
    """URL of the local Redis (db 15) when it answers, else of an embedded redis-server."""
    if _redis_answers(LOCAL_REDIS_URL):
        return LOCAL_REDIS_URL
    service = start_redis(TEST_DATA_DIR)
    atexit.register(service.stop)
    return service.url


# Every scratch database this process made, with its server: a run of the suite makes about a
# hundred, which `drop_scratch_databases` removes at its end.
_scratch_databases: list[tuple[str, str]] = []


def create_scratch_database(base_url: str, name: str) -> str:
    """(Re)create an empty database `name` on `base_url`'s server and return its URL."""
    if len(name.encode()) > _MAX_IDENTIFIER_BYTES:
        raise ValueError(f"database name {name!r} is longer than {_MAX_IDENTIFIER_BYTES} bytes")
    _drop(base_url, name)
    with psycopg.connect(_with_database(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _scratch_databases.append((base_url, name))
    return _with_database(base_url, name)


def drop_scratch_databases() -> None:
    """Drop every scratch database this process made."""
    while _scratch_databases:
        _drop(*_scratch_databases.pop())


def _drop(base_url: str, name: str) -> None:
    with psycopg.connect(_with_database(base_url, "postgres"), autocommit=True) as conn:
        # FORCE: a process a test started (or a run that crashed) may still be connected.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


# These helpers are named like tests; keep pytest from collecting them where they are imported.
for _helper in (test_database_url, test_redis_url):
    _helper.__test__ = False  # type: ignore[attr-defined]
