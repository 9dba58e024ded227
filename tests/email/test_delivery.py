"""The row-lock protocol between the relay and the workers, step by step on several connections
(no notifier or worker runs in this module): the hand-over, the attempt recorded before the send,
a dead worker's attempt handed over again, and the release of emails an outage deferred."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from commands.services import Commands
from projections.outbox import Outbox, attempts
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


MAX_ATTEMPTS = 10


def _begin(conn: Conn, email_id: uuid.UUID, wait_ms: int = 5_000) -> attempts.Attempt | None:
    # Workers set this on their connections (workers/worker.py).
    conn.execute(f"SET lock_timeout = {wait_ms}")
    conn.commit()
    begun = attempts.begin(conn, [email_id], MAX_ATTEMPTS)
    return begun[0] if begun else None


def _queue(relay: Conn, email_id: uuid.UUID) -> None:
    with relay.transaction():
        delivery.mark_queued(relay, [email_id])


def _row(conn: Conn, email_id: uuid.UUID) -> tuple[object, ...]:
    with conn.transaction():
        row = conn.execute("SELECT status, attempts, released FROM outbox WHERE id = %s",
                           (email_id,)).fetchone()
    assert row is not None
    return row


def _due(relay: Conn, requeue_after: float = 300) -> list[uuid.UUID]:
    with relay.transaction():
        return [email_id for email_id, _ in
                delivery.due_rows(relay, requeue_after=requeue_after, limit=1000)]


def test_a_worker_waits_for_the_relays_hand_over_instead_of_skipping_the_row(
    connect: Callable[[], Conn],
) -> None:
    relay, worker = connect(), connect()
    email_id = _new_email(relay)
    begun: list[attempts.Attempt | None] = []
    with relay.transaction():
        ids = [email_id for email_id, _ in delivery.due_rows(relay, requeue_after=300, limit=100)]
        assert email_id in ids
        delivery.mark_queued(relay, ids)
        # The message can reach a worker before this commit.
        thread = threading.Thread(target=lambda: begun.append(_begin(worker, email_id)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive(), "the worker must wait for the relay's lock"
    thread.join(5)
    [attempt] = begun
    assert attempt is not None and attempt.id == email_id and attempt.attempts == 1


def test_the_attempt_is_recorded_before_the_send_and_a_duplicate_message_does_nothing(
    connect: Callable[[], Conn],
) -> None:
    relay, first, second, observer = connect(), connect(), connect(), connect()
    email_id = _new_email(relay)
    _queue(relay, email_id)
    attempt = _begin(first, email_id)
    assert attempt is not None
    with first.transaction():
        assert attempts.hold(first, [attempt]) == [attempt]
        # Committed before anything is sent: whoever looks sees the attempt under way.
        assert _row(observer, email_id) == ("sending", 1, False)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _begin(second, email_id, wait_ms=200)
        # Nor does the relay hand a row in flight over again, however old its message.
        assert email_id not in _due(relay, requeue_after=0)
        attempts.mark_sent(first, [email_id])
    assert _begin(second, email_id) is None
    assert email_id not in _due(relay, requeue_after=0)
    assert _row(observer, email_id) == ("sent", 1, False)


def test_an_attempt_whose_worker_died_is_handed_over_again_and_counted(
    connect: Callable[[], Conn],
) -> None:
    relay, worker, observer = connect(), connect(), connect()
    email_id = _new_email(relay)
    _queue(relay, email_id)
    attempt = _begin(worker, email_id)
    assert attempt is not None
    worker.execute("SELECT 1 FROM outbox WHERE id = %s FOR UPDATE", (email_id,))
    # The worker dies while the server has the email: its session, and the lock, go with it.
    worker.close()
    # The grace covers the instant between the attempt's commit and its lock: step past it.
    with observer.transaction():
        observer.execute("UPDATE outbox SET attempted_at = attempted_at - make_interval("
                         "secs => %s) WHERE id = %s", (delivery.UNCONFIRMED_GRACE, email_id))
    assert email_id in _due(relay)
    _queue(relay, email_id)
    again = _begin(connect(), email_id)
    assert again is not None and again.id == email_id and again.attempts == 2


def test_the_relay_taking_an_attempt_back_in_its_first_instant_stops_that_worker(
    connect: Callable[[], Conn],
) -> None:
    relay, worker = connect(), connect()
    email_id = _new_email(relay)
    _queue(relay, email_id)
    attempt = _begin(worker, email_id)
    assert attempt is not None
    _queue(relay, email_id)
    with worker.transaction():
        assert attempts.hold(worker, [attempt]) == []


def test_a_row_waiting_for_its_retry_is_neither_sent_nor_handed_over_early(
    connect: Callable[[], Conn],
) -> None:
    relay, worker = connect(), connect()
    email_id = _new_email(relay)
    _queue(relay, email_id)
    attempt = _begin(worker, email_id)
    assert attempt is not None
    with worker.transaction():
        attempts.mark_retry(worker, attempt, "451 later", delay=60, outage=False)
    assert _begin(worker, email_id) is None
    assert email_id not in _due(relay)
    # A refusal of this one email is not an outage: a send that works leaves it alone.
    with worker.transaction():
        attempts.release_deferred(worker)
    assert email_id not in _due(relay)


def test_a_send_that_works_releases_what_an_outage_deferred_without_using_up_attempts(
    connect: Callable[[], Conn],
) -> None:
    relay, worker, observer = connect(), connect(), connect()
    email_id = _new_email(relay)
    _queue(relay, email_id)
    attempt = _begin(worker, email_id)
    assert attempt is not None and not attempt.early
    with worker.transaction():
        attempts.mark_retry(worker, attempt, "connection refused", delay=3600, outage=True)
    assert email_id not in _due(relay)
    assert _row(observer, email_id) == ("pending", 1, False)

    with worker.transaction():
        assert attempts.release_deferred(worker) >= 1
    assert email_id in _due(relay)
    _queue(relay, email_id)
    early = _begin(worker, email_id)
    assert early is not None and early.early and early.attempts == 2
    # Still down: the released attempt is given back and the row keeps its own schedule.
    with worker.transaction():
        attempts.mark_retry(worker, early, "connection refused", delay=7200, outage=True)
    assert _row(observer, email_id) == ("pending", 1, False)
    assert email_id not in _due(relay)

    # The relay's probe releases it too (the oldest deferred row), and this time it goes.
    with relay.transaction():
        while attempts.probe_outage(relay):
            pass
    assert email_id in _due(relay)
    _queue(relay, email_id)
    probe = _begin(worker, email_id)
    assert probe is not None and probe.early
    with worker.transaction():
        attempts.mark_sent(worker, [email_id])
    assert _row(observer, email_id) == ("sent", 2, False)
