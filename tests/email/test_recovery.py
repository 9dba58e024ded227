"""Crashes: a worker process killed in the middle of a send, and Redis losing its messages.
The email still arrives: once, or, when the server had taken it just before the worker died,
again with the same Message-ID. Workers here are real `trail worker` processes."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable

import psycopg
import pytest
import redis

from commands.messages import EditTicket
from tests.email.conftest import WorkerProcess
from tests.email.support import Mailbox, People, for_ticket
from workers.config import Delivery

pytestmark = pytest.mark.usefixtures("notifier")

DB = psycopg.Connection[tuple[object, ...]]


def _status(db: DB, ticket_id: object) -> list[tuple[object, ...]]:
    return db.execute(
        "SELECT status, attempts FROM outbox WHERE ticket_id = %s ORDER BY seq", (ticket_id,)
    ).fetchall()


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_send_and_restarted_delivers_once(
    people: People, mailbox: Mailbox, spawn_worker: WorkerProcess, db: DB, delivery: Delivery
) -> None:
    kai = people.user("Kai Killed")
    address = people.email_of(kai)
    mailbox.stalled.add(address)
    first = spawn_worker()
    project = people.project("KIL")
    ticket = people.ticket(project, "Crash in the middle", kai)

    # The worker is inside the SMTP conversation, holding the row: kill it there.
    assert mailbox.stall_reached.wait(30), "the worker never reached the server"
    # The attempt was recorded before the send began.
    assert _status(db, ticket) == [("sending", 1)]
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    mailbox.stalled.discard(address)
    mailbox.release.set()

    spawn_worker()
    [accepted] = mailbox.wait_for(for_ticket(ticket), 1, timeout=30)
    assert accepted.rcpt == address
    _wait(lambda: _status(db, ticket) == [("sent", 2)])
    # The message the dead worker held may still come back from Redis: it must not resend.
    time.sleep(delivery.requeue_after + 1)
    assert len(mailbox.matching(for_ticket(ticket))) == 1


def test_an_email_the_server_took_as_its_worker_died_comes_again_with_its_message_id(
    people: People, mailbox: Mailbox, spawn_worker: WorkerProcess, db: DB
) -> None:
    mailbox.stall_reached.clear()
    mailbox.release.clear()
    vic = people.user("Vic Twice")
    address = people.email_of(vic)
    mailbox.stalled_after_accepting.add(address)
    first = spawn_worker()
    ticket = people.ticket(people.project("TWI"), "Accepted, unconfirmed", vic)

    # The server has the email; the worker dies before it hears so and before it commits.
    assert mailbox.stall_reached.wait(30), "the worker never reached the server"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    mailbox.stalled_after_accepting.discard(address)
    mailbox.release.set()
    assert _status(db, ticket) == [("sending", 1)]

    # Nobody holds the attempt any more: it is sent again, without waiting for a requeue.
    spawn_worker()
    copies = mailbox.wait_for(for_ticket(ticket), 2, timeout=30)
    assert [c.rcpt for c in copies] == [address, address]
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"]
    _wait(lambda: _status(db, ticket) == [("sent", 2)])


def test_messages_lost_by_redis_are_enqueued_again(
    people: People, mailbox: Mailbox, spawn_worker: WorkerProcess, db: DB, redis_url: str,
    delivery: Delivery,
) -> None:
    lou = people.user("Lou Lost")
    project = people.project("LST")
    ticket = people.ticket(project, "Flushed away", lou)
    # No worker yet: the relay queues the message in Redis, where it waits.
    _wait(lambda: _status(db, ticket) == [("queued", 0)])

    client = redis.Redis.from_url(redis_url)
    try:
        lost = [key for key in client.scan_iter(match=f"{delivery.namespace}*")]
        assert lost, "the message should have been waiting in Redis"
        client.delete(*lost)
    finally:
        client.close()

    spawn_worker()
    [accepted] = mailbox.wait_for(for_ticket(ticket), 1, timeout=30)
    assert accepted.rcpt == people.email_of(lou)
    _wait(lambda: _status(db, ticket) == [("sent", 1)])


def test_a_change_made_while_no_worker_runs_is_sent_when_one_starts(
    people: People, mailbox: Mailbox, spawn_worker: WorkerProcess, db: DB
) -> None:
    mo = people.user("Mo Later")
    project = people.project("LAT")
    ticket = people.ticket(project, "Before the worker", mo)
    people.app.tickets.edit(people.admin, EditTicket(ticket_id=ticket, title="Still before"))
    _wait(lambda: [s for s, _ in _status(db, ticket)] == ["queued", "queued"])

    spawn_worker()
    assert len(mailbox.wait_for(for_ticket(ticket), 2, timeout=30)) == 2
    _wait(lambda: [s for s, _ in _status(db, ticket)] == ["sent", "sent"])


def test_one_commands_emails_travel_in_one_message_and_each_arrives_once(
    people: People, mailbox: Mailbox, spawn_worker: WorkerProcess, db: DB, redis_url: str,
    delivery: Delivery,
) -> None:
    trio = [people.user(f"Trio {name}") for name in ("Ann", "Ben", "Cat")]
    project = people.project("TRI")
    ticket = people.ticket(project, "Three assignees", *trio)
    _wait(lambda: _status(db, ticket) == [("queued", 0)] * 3)

    client = redis.Redis.from_url(redis_url)
    try:
        [messages] = [key for key in client.scan_iter(match=f"{delivery.namespace}*.msgs")]
        bodies = [json.loads(body) for body in client.hvals(messages)]
    finally:
        client.close()
    rows = [str(row[0]) for row in db.execute(
        "SELECT id FROM outbox WHERE ticket_id = %s ORDER BY seq", (ticket,)).fetchall()]
    # Other tests' messages may wait there too, and with no worker the relay hands the rows
    # over again every `requeue_after`: each time, all three in one message.
    ours = [body["args"] for body in bodies if set(body["args"]) & set(rows)]
    assert ours and all(args == rows for args in ours), ours

    spawn_worker()
    accepted = mailbox.wait_for(for_ticket(ticket), 3, timeout=30)
    assert sorted(a.rcpt for a in accepted) == sorted(people.email_of(u) for u in trio)
    assert sorted(a.outbox_id for a in accepted) == sorted(rows)
    assert len({a.message["Message-ID"] for a in accepted}) == 3
    _wait(lambda: _status(db, ticket) == [("sent", 1)] * 3)
