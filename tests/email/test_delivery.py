"""The row-lock protocol between the relay and the workers, step by step on two connections
(no notifier or worker runs in this module)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from commands.services import Commands
from projections.outbox import Outbox
from projections.outbox import rows as delivery
from projections.outbox.rows import enqueue_password_reset
from projections.rebuild import install
from runtime.embedded import postgres_env

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture(scope="module")
def outbox(app: Commands, scratch_database_url: str) -> str:
    install(Outbox, postgres_env(scratch_database_url))
    return scratch_database_url


@pytest.fixture
def connect(outbox: str) -> Iterator[Callable[[], Conn]]:
    opened: list[Conn] = []

    def new() -> Conn:
        opened.append(psycopg.connect(outbox))
        return opened[-1]

    yield new
    for conn in opened:
        conn.close()


def _new_email(conn: Conn) -> uuid.UUID:
    return enqueue_password_reset(
        conn, uuid.uuid4(), "ray@example.com", "Ray", "token", "http://trail.test/reset"
    )


def _claim(conn: Conn, email_id: uuid.UUID, wait_ms: int = 5_000) -> delivery.Claimed | None:
    with conn.transaction():
        # Workers set this on their connections (workers/worker.py).
        conn.execute(f"SET LOCAL lock_timeout = {wait_ms}")
        return delivery.claim(conn, email_id)


def test_a_worker_waits_for_the_relays_hand_over_instead_of_skipping_the_row(
    connect: Callable[[], Conn],
) -> None:
    relay, worker = connect(), connect()
    email_id = _new_email(relay)
    claimed: list[delivery.Claimed | None] = []
    with relay.transaction():
        ids = delivery.due_rows(relay, requeue_after=300, limit=100)
        assert email_id in ids
        delivery.mark_queued(relay, ids)
        # The message can reach a worker before this commit.
        thread = threading.Thread(target=lambda: claimed.append(_claim(worker, email_id)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive(), "the worker must wait for the relay's lock"
    thread.join(5)
    [row] = claimed
    assert row is not None and row.id == email_id


def test_a_duplicate_message_gives_up_on_a_row_being_sent_and_skips_a_sent_one(
    connect: Callable[[], Conn],
) -> None:
    relay, first, second = connect(), connect(), connect()
    email_id = _new_email(relay)
    with relay.transaction():
        delivery.mark_queued(relay, [email_id])
    with first.transaction():
        row = delivery.claim(first, email_id)
        assert row is not None
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _claim(second, email_id, wait_ms=200)
        # Nor does the relay hand a row in flight over again, however old its message.
        with relay.transaction():
            assert email_id not in delivery.due_rows(relay, requeue_after=0, limit=1000)
        delivery.mark_sent(first, email_id, row.attempts + 1)
    assert _claim(second, email_id) is None
    with relay.transaction():
        assert email_id not in delivery.due_rows(relay, requeue_after=0, limit=1000)


def test_a_row_waiting_for_its_retry_is_neither_sent_nor_handed_over_early(
    connect: Callable[[], Conn],
) -> None:
    relay, worker = connect(), connect()
    email_id = _new_email(relay)
    with relay.transaction():
        delivery.mark_queued(relay, [email_id])
    with worker.transaction():
        delivery.mark_retry(worker, email_id, 1, "451 later", delay=60)
    assert _claim(worker, email_id) is None
    with relay.transaction():
        assert email_id not in delivery.due_rows(relay, requeue_after=300, limit=1000)
