"""What links, parents and teams email: each end of a link tells its own assignees, naming the
other ticket by key; parents by key, teams by name."""

from __future__ import annotations

import psycopg
import pytest

from commands.messages import CreateTeam, EditTicket, LinkTickets, UnlinkTickets
from commands.services import Commands
from domain.links import LinkType
from tests.email.support import Accepted, Mailbox, People, for_ticket

pytestmark = pytest.mark.usefixtures("notifier", "worker")


def test_a_link_emails_the_assignees_of_both_tickets_once_each(
    app: Commands, people: People, mailbox: Mailbox, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    ann, bob, cat = people.user("Ann Ends"), people.user("Bob Ends"), people.user("Cat Both")
    project = people.project("LNK")
    first = people.ticket(project, "Blocker", ann, cat)
    second = people.ticket(project, "Blocked", bob, cat)

    made = app.links.add(people.admin, LinkTickets(ticket_id=first, type=LinkType.BLOCKS,
                                                   other_id=second))

    to = {a.rcpt: a.part("plain") for a in mailbox.wait_for(links_changed, 3)}
    assert "Links: blocks LNK-2" in to[people.email_of(ann)]
    assert "Links: blocked by LNK-1" in to[people.email_of(bob)]
    # Cat is on both tickets: one command, one email (about the ticket it was made from).
    assert "Links: blocks LNK-2" in to[people.email_of(cat)]
    # The command's two events are the last two positions it wrote.
    row = db.execute("SELECT count(*) FROM outbox WHERE position BETWEEN %s AND %s",
                     (made.position - 1, made.position))
    assert row.fetchone() == (3,)

    app.links.remove(people.admin, UnlinkTickets(ticket_id=second, link_id=made.id))
    removed = mailbox.wait_for(lambda a: "→ (none)" in a.part("plain"), 3)
    assert any("Links: blocked by LNK-1 → (none)" in a.part("plain") for a in removed
               if a.rcpt == people.email_of(bob))


def links_changed(accepted: Accepted) -> bool:
    return "Links: " in accepted.part("plain")


def test_parents_show_by_key_and_teams_by_name(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    dee = people.user("Dee Parent")
    project = people.project("PAR")
    parent = people.ticket(project, "Epic")
    child = people.ticket(project, "Story", dee)
    mailbox.wait_for(for_ticket(child), 1)
    team_id = app.teams.create(people.admin, CreateTeam(name="Checkout Crew")).id

    app.tickets.edit(people.admin, EditTicket(ticket_id=child, parent_id=parent,
                                              team_id=team_id))

    [accepted] = mailbox.wait_for(for_ticket(child), 2)[1:]
    text = accepted.part("plain")
    assert "Parent: PAR-1" in text
    assert "Team: Checkout Crew" in text
