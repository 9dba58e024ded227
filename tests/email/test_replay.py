"""Replaying the log never emails twice, and a command split across batches is still one email.

The notifier is started and stopped by the tests here, to replay and to process in tiny batches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from commands.messages import EditTicket
from commands.services import Commands
from domain.values import Priority, Status
from eventlog.reading import head
from projections.base import schema_name
from projections.errors import NotRebuildable
from projections.outbox import Outbox
from projections.outbox.payloads import payload_decoder
from projections.rebuild import rebuild
from projections.runner import Runner
from runtime import bootstrap
from runtime.embedded import postgres_env
from runtime.settings import Settings
from tests.email.support import Mailbox, People, for_ticket
from workers.config import Delivery
from workers.follower_process import FollowerProcess

pytestmark = pytest.mark.usefixtures("worker")

DB = psycopg.Connection[tuple[object, ...]]
SCHEMA = schema_name(Outbox.name, 1)


class Notifiers:
    def __init__(self, url: str, redis_url: str, settings: Settings, delivery: Delivery) -> None:
        self.args = (settings, url, redis_url, delivery)
        self.running: FollowerProcess | None = None

    def start(self) -> None:
        self.running = bootstrap.notifier(*self.args)
        self.running.start()

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None


@pytest.fixture(scope="module")
def notifiers(
    app: Commands, scratch_database_url: str, redis_url: str, settings: Settings,
    delivery: Delivery,
) -> Iterator[Notifiers]:
    notifiers = Notifiers(scratch_database_url, redis_url, settings, delivery)
    notifiers.start()
    yield notifiers
    notifiers.stop()


def _outbox(db: DB) -> list[tuple[object, ...]]:
    return db.execute("SELECT id, status, attempts FROM outbox ORDER BY seq").fetchall()


def _caught_up(db: DB) -> bool:
    with db.cursor(row_factory=psycopg.rows.dict_row) as cur:
        position = head(cur)
    row = db.execute(
        "SELECT position FROM projection_versions WHERE name = %s", (Outbox.name,)
    ).fetchone()
    return row is not None and row[0] >= position


def _settle(db: DB, seconds: float = 1.5) -> None:
    deadline = time.monotonic() + 20
    while not _caught_up(db):
        assert time.monotonic() < deadline, "the notifier did not catch up"
        time.sleep(0.05)
    # Long enough for the relay and the worker to send anything the notifier wrote.
    time.sleep(seconds)


def test_replaying_the_notifier_from_zero_sends_nothing_again(
    app: Commands, people: People, mailbox: Mailbox, notifiers: Notifiers, db: DB,
    scratch_database_url: str,
) -> None:
    ivy, jon = people.user("Ivy Replay"), people.user("Jon Replay")
    project = people.project("RPL")
    ticket = people.ticket(project, "Replayed", ivy, jon)
    app.tickets.edit(people.admin, EditTicket(ticket_id=ticket, status=Status.IN_PROGRESS))
    mailbox.wait_for(for_ticket(ticket), 4)
    _settle(db)
    before, accepted = _outbox(db), len(mailbox.accepted)

    # Forget the position and every table the projection derives, as if starting over.
    notifiers.stop()
    db.execute(f"DELETE FROM {SCHEMA}.tracking")
    db.execute(f"TRUNCATE {SCHEMA}.outbox_users, {SCHEMA}.outbox_projects, "
               f"{SCHEMA}.outbox_tickets")
    notifiers.start()
    _settle(db)

    assert _outbox(db) == before
    assert len(mailbox.accepted) == accepted


def test_the_outbox_refuses_a_rebuild_and_keeps_its_rows(
    people: People, db: DB, scratch_database_url: str
) -> None:
    before = _outbox(db)
    with pytest.raises(NotRebuildable):
        rebuild(Outbox, postgres_env(scratch_database_url))
    assert _outbox(db) == before


def test_a_command_split_across_batches_is_still_one_email_listing_everything(
    app: Commands, people: People, mailbox: Mailbox, notifiers: Notifiers, db: DB,
    scratch_database_url: str,
) -> None:
    kit, lee = people.user("Kit Split"), people.user("Lee Split")
    project = people.project("SPL")
    ticket = people.ticket(project, "Split me", kit, lee)
    mailbox.wait_for(for_ticket(ticket), 2)
    _settle(db, 0)

    notifiers.stop()
    app.tickets.edit(
        people.admin,
        EditTicket(ticket_id=ticket, title="Split", status=Status.IN_PROGRESS,
                   priority=Priority.HIGH),
    )
    # One event per batch (and per transaction): the command's three events are split.
    Runner(Outbox, postgres_env(scratch_database_url), batch_size=1).catch_up()
    notifiers.start()

    emails = mailbox.wait_for(for_ticket(ticket), 4)[2:]
    _settle(db)
    assert len(mailbox.matching(for_ticket(ticket))) == 4
    assert sorted(e.rcpt for e in emails) == sorted(people.email_of(a) for a in (kit, lee))
    for accepted in emails:
        text = accepted.part("plain")
        for line in ("Title: Split me → Split", "Status: open → in progress",
                     "Priority: medium → high"):
            assert line in text
    rows = db.execute(
        "SELECT payload::text FROM outbox WHERE ticket_id = %s ORDER BY seq", (ticket,)
    ).fetchall()
    assert len(rows) == 4
    fields = [[c.field for c in payload_decoder.decode(str(r[0])).changes] for r in rows[2:]]
    assert fields == [["title", "status", "priority"]] * 2
