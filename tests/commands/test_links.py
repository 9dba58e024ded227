"""Links and parents through the write side, on PostgreSQL: one fact on both tickets in one save,
cycles refused even when two commands race to close one, blocked tickets, subtasks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from commands.errors import Forbidden, VersionMismatch
from commands.messages import CreateTicket, EditTicket, LinkTickets, UnlinkTickets
from commands.permissions import Actor
from commands.services import Commands
from domain.errors import (
    CycleNotAllowed,
    InvalidFields,
    LinkNotAllowed,
    TicketBlocked,
    UnknownLink,
)
from domain.links import LinkType
from domain.ticket import Ticket
from domain.values import Status
from tests import log
from tests.commands.conftest import developer, project, reporter, ticket
from tests.commands.test_tickets import race


@pytest.fixture(scope="module")
def dev(app: Commands, admin: Actor) -> Actor:
    return developer(app, admin, "Lin Linker")


@pytest.fixture(scope="module")
def project_id(app: Commands, admin: Actor) -> uuid.UUID:
    return project(app, admin)


def tickets(app: Commands, dev: Actor, project_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    return [ticket(app, dev, project_id, f"t{i}") for i in range(n)]


def link(app: Commands, actor: Actor, a: uuid.UUID, kind: LinkType, b: uuid.UUID) -> Any:
    return app.links.add(actor, LinkTickets(ticket_id=a, type=kind, other_id=b))


def load(app: Commands, ticket_id: uuid.UUID) -> Ticket:
    found = app.store.repository.get(ticket_id)
    assert isinstance(found, Ticket)
    return found


def set_status(app: Commands, actor: Actor, ticket_id: uuid.UUID, *statuses: Status) -> None:
    for status in statuses:
        app.tickets.edit(actor, EditTicket(ticket_id=ticket_id, status=status))


def test_a_link_is_one_event_on_each_ticket_in_one_command(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    a, b = tickets(app, dev, project_id, 2)
    outcome = link(app, dev, a, LinkType.BLOCKS, b)
    this, other = load(app, a), load(app, b)
    assert (this.version, other.version) == (2, 2)
    assert [(x.id, x.type, x.ticket_id) for x in this.links] == [(outcome.id, LinkType.BLOCKS, b)]
    assert [(x.id, x.type, x.ticket_id) for x in other.links] == [
        (outcome.id, LinkType.BLOCKED_BY, a)]
    entries = log.log(app, after=outcome.position - 2)
    assert [e.type for e in entries] == ["Ticket.LinkAdded", "Ticket.LinkAdded"]
    assert len({e.data["command_id"] for e in entries}) == 1
    assert outcome.position == entries[-1].position


def test_removing_a_link_from_either_end_removes_both(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    a, b = tickets(app, dev, project_id, 2)
    made = link(app, dev, a, LinkType.RELATES_TO, b)
    app.links.remove(dev, UnlinkTickets(ticket_id=b, link_id=made.id))
    assert load(app, a).links == load(app, b).links == ()
    assert [e.type for e in log.history(app, a)][-1] == "Ticket.LinkRemoved"
    with pytest.raises(UnknownLink):
        app.links.remove(dev, UnlinkTickets(ticket_id=a, link_id=made.id))


@pytest.mark.parametrize("second", [LinkType.RELATES_TO, LinkType.BLOCKED_BY])
def test_a_second_link_between_the_same_tickets_is_refused_from_either_end(
    app: Commands, dev: Actor, project_id: uuid.UUID, second: LinkType
) -> None:
    a, b = tickets(app, dev, project_id, 2)
    link(app, dev, a, LinkType.DUPLICATES, b)
    with pytest.raises(LinkNotAllowed):
        link(app, dev, b, second, a)
    with pytest.raises(LinkNotAllowed):
        link(app, dev, a, second, a)
    assert load(app, a).version == load(app, b).version == 2


def test_an_unknown_other_ticket_is_an_invalid_field(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    (a,) = tickets(app, dev, project_id, 1)
    with pytest.raises(InvalidFields) as refused:
        link(app, dev, a, LinkType.BLOCKS, uuid.uuid4())
    assert [e.field for e in refused.value.errors] == ["ticket_id"]


def test_reporters_do_not_link_and_if_match_guards_the_ticket(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    rita = reporter(app, "Rita Linkless")
    a = ticket(app, rita, project_id)
    (b,) = tickets(app, dev, project_id, 1)
    with pytest.raises(Forbidden):
        link(app, rita, a, LinkType.RELATES_TO, b)
    with pytest.raises(VersionMismatch):
        app.links.add(dev, LinkTickets(ticket_id=a, type=LinkType.RELATES_TO, other_id=b,
                                       expected_version=7))


def test_a_blocking_link_that_closes_a_cycle_is_refused(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    a, b, c = tickets(app, dev, project_id, 3)
    link(app, dev, a, LinkType.BLOCKS, b)
    link(app, dev, c, LinkType.BLOCKED_BY, b)
    with pytest.raises(CycleNotAllowed):
        link(app, dev, c, LinkType.BLOCKS, a)
    with pytest.raises(CycleNotAllowed):
        link(app, dev, a, LinkType.BLOCKED_BY, c)
    link(app, dev, a, LinkType.DUPLICATES, c)  # only blocking links form cycles


def test_two_blocking_links_racing_to_close_a_cycle_cannot_both_win(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    """a blocks b and c blocks d; then b blocks c and d blocks a, at once. Each alone is fine,
    both close a→b→c→d→a, and the two commands touch four different tickets."""
    for _ in range(4):
        a, b, c, d = tickets(app, dev, project_id, 4)
        link(app, dev, a, LinkType.BLOCKS, b)
        link(app, dev, c, LinkType.BLOCKS, d)
        pairs = [(b, c), (d, a)]

        def close(i: int, pairs: list[tuple[uuid.UUID, uuid.UUID]] = pairs) -> str:
            try:
                link(app, dev, pairs[i][0], LinkType.BLOCKS, pairs[i][1])
            except CycleNotAllowed:
                return "refused"
            return "linked"

        assert sorted(race(2, close)) == ["linked", "refused"]


def test_a_ticket_blocked_by_unfinished_tickets_is_refused_naming_them(
    app: Commands, admin: Actor, dev: Actor
) -> None:
    key = f"BL{uuid.uuid4().hex[:4].upper()}"
    project_id = project(app, admin, key=key)
    blocked, first, second = tickets(app, dev, project_id, 3)
    link(app, dev, blocked, LinkType.BLOCKED_BY, first)
    link(app, dev, second, LinkType.BLOCKS, blocked)
    set_status(app, dev, blocked, Status.IN_PROGRESS)
    set_status(app, dev, second, Status.CLOSED)
    with pytest.raises(TicketBlocked) as refused:
        set_status(app, dev, blocked, Status.RESOLVED)
    assert refused.value.keys == (f"{key}-2",)
    with pytest.raises(TicketBlocked):
        set_status(app, dev, blocked, Status.CLOSED)
    set_status(app, dev, first, Status.IN_PROGRESS, Status.RESOLVED)
    set_status(app, dev, blocked, Status.RESOLVED)
    assert load(app, blocked).status is Status.RESOLVED


# --- parents ------------------------------------------------------------------------------------


def test_a_subtask_is_created_under_a_parent_of_its_project_at_version_one(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    (parent,) = tickets(app, dev, project_id, 1)
    child = ticket(app, dev, project_id, parent_id=parent)
    assert (load(app, child).parent_id, load(app, child).version) == (parent, 1)
    elsewhere = project(app, admin)
    with pytest.raises(InvalidFields) as refused:
        ticket(app, dev, elsewhere, parent_id=parent)
    assert [e.field for e in refused.value.errors] == ["parent_id"]
    with pytest.raises(InvalidFields):
        ticket(app, dev, project_id, parent_id=uuid.uuid4())


def test_reporters_may_not_set_a_parent(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    rita = reporter(app, "Rita Parentless")
    (parent,) = tickets(app, dev, project_id, 1)
    with pytest.raises(Forbidden):
        app.tickets.create(rita, CreateTicket(project_id=project_id, title="x", parent_id=parent))
    own = ticket(app, rita, project_id)
    with pytest.raises(Forbidden):
        app.tickets.edit(rita, EditTicket(ticket_id=own, parent_id=None))


def test_a_parent_that_closes_a_cycle_is_refused(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    (top,) = tickets(app, dev, project_id, 1)
    middle = ticket(app, dev, project_id, parent_id=top)
    bottom = ticket(app, dev, project_id, parent_id=middle)
    for descendant in (top, middle, bottom):
        with pytest.raises(CycleNotAllowed):
            app.tickets.edit(dev, EditTicket(ticket_id=top, parent_id=descendant))
    app.tickets.edit(dev, EditTicket(ticket_id=bottom, parent_id=None))
    app.tickets.edit(dev, EditTicket(ticket_id=top, parent_id=bottom))
    assert load(app, top).parent_id == bottom


def test_two_parents_racing_to_close_a_cycle_cannot_both_win(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    for _ in range(4):
        a, b = tickets(app, dev, project_id, 2)
        pairs = [(a, b), (b, a)]

        def adopt(i: int, pairs: list[tuple[uuid.UUID, uuid.UUID]] = pairs) -> str:
            try:
                app.tickets.edit(dev, EditTicket(ticket_id=pairs[i][0], parent_id=pairs[i][1]))
            except CycleNotAllowed:
                return "refused"
            return "adopted"

        assert sorted(race(2, adopt)) == ["adopted", "refused"]
