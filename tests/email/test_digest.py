"""Email preferences and the daily digest, through the whole pipeline to a real SMTP server,
with the clock injected: changes made on a chosen day, the digest job run the next morning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import psycopg
import pytest

from commands.base import Trail
from commands.messages import ChoosePreferences, CommentOnTicket, CreateTicket, EditTicket
from commands.permissions import Actor
from commands.services import Commands, build_commands
from domain.values import EmailPreference, Status
from projections.outbox.rows import enqueue_password_reset
from projections.positions import wait_for_position
from runtime import bootstrap
from runtime.settings import Settings
from tests.email.support import Mailbox, People, for_ticket
from workers.digest import JOB_NAME
from workers.schedule import Job

pytestmark = pytest.mark.usefixtures("notifier", "worker")

DAY = date(2026, 3, 9)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=9))


@pytest.fixture(scope="module")
def then(trail_env: dict[str, str], clock: Clock, app: Commands) -> Iterator[Commands]:
    """The write side on the module's database, with the injected clock."""
    commands = build_commands(Trail(trail_env), clock=clock)
    yield commands
    commands.close()


def digest_job(settings: Settings, scratch_database_url: str, clock: Clock) -> Job:
    jobs = bootstrap.scheduled_jobs(settings, scratch_database_url, clock=clock)
    [job] = [job for job in jobs if job.name == JOB_NAME]
    return job


def create(then: Commands, people: People, project: UUID, title: str, *assignees: Actor
           ) -> UUID:
    command = CreateTicket(project_id=project, title=title,
                           assignee_ids=tuple(a.id for a in assignees))
    return then.tickets.create(people.admin, command).id


def to(address: str) -> object:
    return lambda accepted: accepted.rcpt == address


def outbox_caught_up(then: Commands, scratch_database_url: str) -> None:
    """The outbox follower has processed every command so far."""
    head = then.store.current_position()
    assert wait_for_position(scratch_database_url, ["outbox"], head, timeout=30)


def test_the_digest_lists_the_previous_days_changes_once(
    then: Commands, people: People, mailbox: Mailbox, settings: Settings,
    scratch_database_url: str, clock: Clock, db: psycopg.Connection[tuple[object, ...]],
) -> None:
    dana, eddy = people.user("Dana Digest"), people.user("Eddy Each")
    then.accounts.choose_preferences(dana, ChoosePreferences(email=EmailPreference.DAILY_DIGEST))
    project = people.project("DIG")
    first = create(then, people, project, "Broken login", dana, eddy)
    second = create(then, people, project, "Slow search", dana)
    clock.now += timedelta(hours=2)
    then.tickets.edit(people.admin, EditTicket(ticket_id=first, status=Status.IN_PROGRESS))
    then.tickets.comment(people.admin, CommentOnTicket(ticket_id=second, body="Looking"))

    # The each-change user hears of both changes of its ticket at once; the digest user not.
    mailbox.wait_for(for_ticket(first), 2)
    outbox_caught_up(then, scratch_database_url)
    assert mailbox.matching(to(people.email_of(dana))) == []

    # Too early: the digest covers the day before, and there is nothing for 2026-03-08.
    assert digest_job(settings, scratch_database_url, clock).run() == 0
    clock.now = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=8)
    job = digest_job(settings, scratch_database_url, clock)
    assert job.every == {"hour": 8, "minute": 0} and job.trigger == "cron"
    assert job.run() == 1
    assert job.run() == 0, "a second run of the same day writes nothing"

    [digest] = mailbox.wait_for(to(people.email_of(dana)), 1)
    assert digest.message["Subject"] == "Your Trail digest for 2026-03-09"
    text = digest.part("plain")
    assert text.index("DIG-1  Broken login") < text.index("DIG-2  Slow search")
    assert "Status: open → in progress" in text
    assert "Comment: Looking" in text
    assert "Ada Admin created it" in text
    assert "11:00 UTC, Ada Admin" in text
    assert str(first) in text and str(second) in text
    assert "Broken login" in digest.part("html")
    rows = db.execute("SELECT kind, status FROM outbox WHERE recipient_email = %s",
                      (people.email_of(dana),)).fetchall()
    assert [r[0] for r in rows] == ["digest"]


def test_off_sends_nothing_but_password_resets(
    then: Commands, people: People, mailbox: Mailbox, settings: Settings,
    scratch_database_url: str, clock: Clock, db: psycopg.Connection[tuple[object, ...]],
) -> None:
    olga, peer = people.user("Olga Off"), people.user("Pete Peer")
    then.accounts.choose_preferences(olga, ChoosePreferences(email=EmailPreference.DAILY_DIGEST))
    ticket = create(then, people, people.project("OFF"), "Quiet please", olga, peer)
    outbox_caught_up(then, scratch_database_url)
    then.accounts.choose_preferences(olga, ChoosePreferences(email=EmailPreference.OFF))
    then.tickets.edit(people.admin, EditTicket(ticket_id=ticket, title="Quiet, please"))
    mailbox.wait_for(for_ticket(ticket), 2)  # the peer's two emails
    clock.now += timedelta(days=2)
    digest_job(settings, scratch_database_url, clock).run()
    enqueue_password_reset(db, olga.id, people.email_of(olga), "Olga Off", "tok3n",
                           "http://trail.test/reset")
    [reset] = mailbox.wait_for(to(people.email_of(olga)), 1)
    assert reset.message["Subject"] == "Reset your Trail password"
    held = db.execute("SELECT count(*) FROM outbox_digest_items WHERE recipient_id = %s",
                      (olga.id,)).fetchone()
    assert held == (0,), "choosing off drops the changes held for the digest"


