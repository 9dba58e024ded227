"""The email actor when the database is away: the message is retried within seconds, by the
broker, instead of being dropped until the relay's requeue (minutes)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from dramatiq.middleware import Retries
from psycopg_pool import ConnectionPool

from workers.actors import Mailer
from workers.broker import DB_RETRY_MAX_MS, DB_RETRY_MIN_MS, DatabaseUnavailable, make_broker
from workers.config import Delivery
from workers.render import Renderer
from workers.transports import FileTransport

Pool = ConnectionPool[psycopg.Connection[tuple[object, ...]]]


@pytest.fixture
def unreachable_pool() -> Iterator[Pool]:
    # A port nothing listens on: every connection is refused, as when PostgreSQL is down.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool: Pool = ConnectionPool(f"postgresql://postgres@127.0.0.1:{port}/trail", min_size=0,
                                max_size=1, timeout=1.0, open=True)
    yield pool
    pool.close()


def test_a_database_error_in_the_actor_is_retried_promptly(
    unreachable_pool: Pool, tmp_path: Path
) -> None:
    mailer = Mailer(unreachable_pool, FileTransport(tmp_path),
                    Renderer(mail_from="Trail <trail@trail.test>",
                             ticket_link=lambda key: f"http://trail.test/t/{key}"),
                    Delivery())
    with pytest.raises(DatabaseUnavailable):
        mailer.send_email(str(uuid.uuid4()))

    broker = make_broker("redis://127.0.0.1:1/0", Delivery())
    [retries] = [m for m in broker.middleware if isinstance(m, Retries)]
    assert retries.retry_when is not None
    assert retries.retry_when(0, DatabaseUnavailable("down"))
    assert retries.retry_when(100, DatabaseUnavailable("down"))
    # Anything else is the outbox's to retry (its row), not the broker's.
    assert not retries.retry_when(0, ValueError("bug"))
    assert DB_RETRY_MIN_MS <= 1_000 and DB_RETRY_MAX_MS <= 10_000
