"""What each kind of ticket change emails, and to whom: through the whole pipeline (outbox
projection, relay, Redis, worker) to a real SMTP server."""

from __future__ import annotations

import time
from datetime import date

import psycopg
import pytest

from commands.messages import AssignTicket, ChangeUser, CommentOnTicket, EditComment, EditTicket
from commands.services import Commands
from domain.values import Priority, Status, TicketType, UserStatus
from projections.outbox.rows import enqueue_password_reset
from tests import log
from tests.email.conftest import BASE_URL
from tests.email.support import Mailbox, People, for_ticket

pytestmark = pytest.mark.usefixtures("notifier", "worker")


def test_a_patch_of_title_and_status_is_one_email_per_assignee(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    max_, dave = people.user("Max Power"), people.user("Dave Grohl")
    yaris = people.user("Yaris Vitz")
    project = people.project("WEB")
    ticket = people.ticket(project, "Fix the database", max_, dave, yaris)
    mailbox.wait_for(for_ticket(ticket), 3)

    app.tickets.edit(
        people.admin,
        EditTicket(ticket_id=ticket, title="Fix the DB", status=Status.IN_PROGRESS),
    )

    emails = mailbox.wait_for(for_ticket(ticket), 6)[3:]
    assert sorted(e.rcpt for e in emails) == sorted(
        people.email_of(a) for a in (max_, dave, yaris)
    )
    for accepted in emails:
        assert accepted.message["Subject"] == "[WEB-1] Fix the DB"
        assert accepted.message["From"] == "Trail <trail@trail.test>"
        text = accepted.part("plain")
        assert "Ticket WEB-1 updated by Ada Admin" in text
        assert "Title: Fix the database → Fix the DB" in text
        assert "Status: open → in progress" in text
        assert "Current assignees: Max Power, Dave Grohl, Yaris Vitz" in text
        assert f"{BASE_URL}/t/WEB-1" in text
        html = accepted.part("html")
        assert "Fix the database &rarr; Fix the DB" in html
        assert f'href="{BASE_URL}/t/WEB-1"' in html
    # To the recipient by name and address.
    assert {str(e.message["To"]) for e in emails} >= {f"Max Power <{people.email_of(max_)}>"}


def test_a_new_ticket_tells_its_assignees_everything_set(
    people: People, mailbox: Mailbox
) -> None:
    zoe = people.user("Zoe Zhang")
    project = people.project("NEW")
    ticket = people.ticket(
        project, "Launch <the> site", zoe, description="All of it.\nTonight.",
        priority=Priority.HIGH, tags=("launch", "web"), due_date=date(2026, 12, 1),
    )

    [accepted] = mailbox.wait_for(for_ticket(ticket), 1)
    assert accepted.rcpt == people.email_of(zoe)
    assert accepted.message["Subject"] == "[NEW-1] Launch <the> site"
    text = accepted.part("plain")
    assert "Ticket NEW-1 created by Ada Admin" in text
    for line in ("Title: Launch <the> site", "Status: open", "Priority: high", "Type: bug",
                 "Tags: launch, web", "Due date: 2026-12-01", "Assignees: Zoe Zhang",
                 "    All of it.\n    Tonight."):
        assert line in text
    # Escaped in HTML, literal in plain text.
    assert "Launch &lt;the&gt; site" in accepted.part("html")


def test_each_kind_of_change_is_shown_from_to(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    kim = people.user("Kim Lee")
    project = people.project("KND")
    ticket = people.ticket(project, "Kinds", kim)
    mailbox.wait_for(for_ticket(ticket), 1)
    admin = people.admin
    changes = [
        (EditTicket(ticket_id=ticket, priority=Priority.URGENT), "Priority: medium → urgent"),
        (EditTicket(ticket_id=ticket, type=TicketType.FEATURE), "Type: bug → feature"),
        (EditTicket(ticket_id=ticket, tags=("a", "b")), "Tags: a, b"),
        (EditTicket(ticket_id=ticket, tags=("b",)), "Tags: a, b → b"),
        (EditTicket(ticket_id=ticket, due_date=date(2027, 1, 2)), "Due date: 2027-01-02"),
        (EditTicket(ticket_id=ticket, due_date=None), "Due date: 2027-01-02 → (none)"),
        (EditTicket(ticket_id=ticket, description="First"), "Description:\n    First"),
        (EditTicket(ticket_id=ticket, description="Second"),
         "Description changed:\n    Second\n  was:\n    First"),
        (CommentOnTicket(ticket_id=ticket, body="Looks good"), "Comment:\n    Looks good"),
    ]
    for n, (command, expected) in enumerate(changes, start=2):
        log.handle(app, admin, command)
        accepted = mailbox.wait_for(for_ticket(ticket), n)[-1]
        assert expected in accepted.part("plain"), accepted.part("plain")

    comment = log.handle(app, kim, CommentOnTicket(ticket_id=ticket, body="Before"))
    log.handle(app, kim, EditComment(ticket_id=ticket, comment_id=comment.id, body="After"))
    # Two commands, two emails; worker threads may deliver them in either order.
    texts = [e.part("plain") for e in mailbox.wait_for(for_ticket(ticket), len(changes) + 3)]
    [edited] = [t for t in texts if "Comment changed" in t]
    assert "updated by Kim Lee" in edited
    assert "Comment changed:\n    After\n  was:\n    Before" in edited


def test_reassigning_tells_the_new_assignees_and_the_removed_one(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    ann, bob, cyd = people.user("Ann Able"), people.user("Bob Baker"), people.user("Cyd Cole")
    project = people.project("ASG")
    ticket = people.ticket(project, "Hand over", ann, bob)
    mailbox.wait_for(for_ticket(ticket), 2)

    app.tickets.assign(people.admin, AssignTicket(ticket_id=ticket, user_ids=(bob.id, cyd.id)))

    emails = {e.rcpt: e for e in mailbox.wait_for(for_ticket(ticket), 5)[2:]}
    assert set(emails) == {people.email_of(a) for a in (ann, bob, cyd)}
    for accepted in emails.values():
        text = accepted.part("plain")
        assert "Assignees: Ann Able, Bob Baker → Bob Baker, Cyd Cole" in text
        assert "Current assignees: Bob Baker, Cyd Cole" in text
    assert "You were removed" in emails[people.email_of(ann)].part("plain")
    assert "You were removed" not in emails[people.email_of(bob)].part("plain")


def test_no_email_for_a_ticket_without_assignees(
    app: Commands, people: People, mailbox: Mailbox, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    eve = people.user("Eve Evans")
    project = people.project("NOA")
    lonely = people.ticket(project, "Nobody's")
    app.tickets.edit(people.admin, EditTicket(ticket_id=lonely, title="Still nobody's"))
    log.handle(app, people.admin, CommentOnTicket(ticket_id=lonely, body="Anyone?"))
    # A later change that does email: once it arrives, the notifier is past the lonely ones.
    sentinel = people.ticket(project, "Somebody's", eve)
    mailbox.wait_for(for_ticket(sentinel), 1)

    assert mailbox.matching(for_ticket(lonely)) == []
    row = db.execute("SELECT count(*) FROM outbox WHERE ticket_id = %s", (lonely,)).fetchone()
    assert row == (0,)


def test_names_follow_renames_and_deactivated_users_get_no_mail(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    ren, gone = people.user("Ren Old"), people.user("Gus Gone")
    project = people.project("REN")
    ticket = people.ticket(project, "Names", ren, gone)
    mailbox.wait_for(for_ticket(ticket), 2)
    app.accounts.change_user(ren, ChangeUser(user_id=ren.id, name="Ren New"))
    app.accounts.change_user(
        people.admin, ChangeUser(user_id=gone.id, status=UserStatus.DEACTIVATED)
    )

    app.tickets.edit(people.admin, EditTicket(ticket_id=ticket, title="Names again"))

    [accepted] = mailbox.wait_for(for_ticket(ticket), 3)[2:]
    assert accepted.rcpt == people.email_of(ren)
    assert str(accepted.message["To"]).startswith("Ren New <")
    assert "Current assignees: Ren New, Gus Gone" in accepted.part("plain")


def test_a_password_reset_goes_through_the_same_pipeline(
    app: Commands, people: People, mailbox: Mailbox, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    pat = people.user("Pat Reset")
    address = people.email_of(pat)
    link = "http://trail.test/reset?token=tok-123"

    email_id = enqueue_password_reset(db, pat.id, address, "Pat Reset", "tok-123", link)

    [accepted] = mailbox.wait_for(lambda a: a.outbox_id == str(email_id), 1)
    assert accepted.rcpt == address
    assert accepted.message["Subject"] == "Reset your Trail password"
    assert link in accepted.part("plain")
    assert "tok-123" in accepted.part("plain")
    assert "within one hour" in accepted.part("plain")
    # Once sent, the outbox keeps no copy of the token; the sent mark and the drop are one commit.
    for _ in range(100):
        row = db.execute("SELECT status, payload FROM outbox WHERE id = %s", (email_id,)).fetchone()
        if row is not None and row[0] == "sent":
            break
        time.sleep(0.05)
    assert row is not None and row[0] == "sent"
    assert "token" not in row[1]


def test_setting_the_same_assignees_again_changes_nothing_and_emails_nobody(
    app: Commands, people: People, mailbox: Mailbox, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    sam = people.user("Sam Same")
    project = people.project("SAM")
    ticket = people.ticket(project, "Same again", sam)
    mailbox.wait_for(for_ticket(ticket), 1)

    app.tickets.assign(people.admin, AssignTicket(ticket_id=ticket, user_ids=(sam.id,)))
    # A later change that does email: once it arrives, the notifier is past the no-op.
    app.tickets.edit(people.admin, EditTicket(ticket_id=ticket, title="Changed"))

    [_, accepted] = mailbox.wait_for(for_ticket(ticket), 2)
    assert "Title: Same again → Changed" in accepted.part("plain")
    row = db.execute("SELECT count(*) FROM outbox WHERE ticket_id = %s", (ticket,)).fetchone()
    assert row == (2,)
