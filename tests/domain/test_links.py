"""Links, parents and teams of a ticket: given events, when a command, then events or an error;
and the two graph rules on small graphs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

import pytest

from domain.errors import CycleNotAllowed, LinkNotAllowed, TicketBlocked, UnknownLink
from domain.history import changes_of
from domain.links import (
    Blocker,
    Link,
    LinkType,
    closes_blocking_cycle,
    closes_parent_cycle,
)
from domain.ticket import Ticket
from domain.ticket_edit import TicketEdit
from domain.values import Stamp, Status
from tests.domain.given import (
    AT,
    LATER,
    LINK_ID,
    OTHER_TICKET_ID,
    TEAM_ID,
    TICKET_ID,
    a_ticket,
    edit,
    given,
    when,
)

A, B, C, D = (UUID(int=n) for n in range(1, 5))
SECOND_LINK = UUID(int=99)


def linked(ticket_id: UUID = TICKET_ID, *links: Link, status: Status = Status.OPEN) -> Ticket:
    """A ticket (in `status`) whose links are `links`, given as the events that made them."""
    stream = a_ticket(ticket_id=ticket_id)
    if status is not Status.OPEN:
        stream.add(Ticket.StatusChanged, old_status=Status.OPEN, status=status)
    held: tuple[Link, ...] = ()
    for link in links:
        stream.add(Ticket.LinkAdded, link_id=link.id, type=link.type,
                   linked_ticket_id=link.ticket_id, old_links=held)
        held = (*held, Link(link.id, link.type, link.ticket_id, AT))
    ticket: Ticket = given(stream)
    return ticket


def link(type: LinkType, other: UUID = OTHER_TICKET_ID, link_id: UUID = LINK_ID) -> Link:
    return Link(link_id, type, other, AT)


def resolve(ticket: Ticket, blockers: Mapping[UUID, Blocker]) -> Callable[..., None]:
    def command(stamp: Stamp, status: Status) -> None:
        ticket.edit(stamp, TicketEdit(status=status), blockers)

    return command


# --- both ends of a link ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LinkType))
def test_each_type_has_an_inverse_whose_inverse_is_itself(kind: LinkType) -> None:
    assert kind.inverse.inverse is kind
    assert (kind.inverse is kind) == (kind is LinkType.RELATES_TO)


def test_linking_records_this_end_with_the_links_before() -> None:
    ticket = linked()
    when(ticket, ticket.link, LINK_ID, LinkType.BLOCKS, OTHER_TICKET_ID).then(
        (Ticket.LinkAdded, {"link_id": LINK_ID, "type": LinkType.BLOCKS,
                            "linked_ticket_id": OTHER_TICKET_ID, "old_links": ()})
    )
    assert ticket.links == (Link(LINK_ID, LinkType.BLOCKS, OTHER_TICKET_ID, LATER),)
    assert ticket.blocked_ids == (OTHER_TICKET_ID,)
    assert ticket.blocker_ids == ()


def test_the_two_ends_of_one_link_share_its_id_and_see_inverse_types() -> None:
    """What the links service does: each end records the link as it sees it."""
    this, other = linked(TICKET_ID), linked(OTHER_TICKET_ID)
    when(this, this.link, LINK_ID, LinkType.DUPLICATES, other.id).then(Ticket.LinkAdded)
    when(other, other.link, LINK_ID, LinkType.DUPLICATES.inverse, this.id).then(
        (Ticket.LinkAdded, {"type": LinkType.DUPLICATED_BY, "linked_ticket_id": TICKET_ID})
    )
    assert this.links[0].id == other.links[0].id == LINK_ID


def test_a_link_shows_in_history_as_the_links_before_and_after() -> None:
    ticket = linked(TICKET_ID, link(LinkType.RELATES_TO, A, SECOND_LINK))
    (added,) = when(ticket, ticket.link, LINK_ID, LinkType.BLOCKED_BY, B).then(Ticket.LinkAdded)
    change = changes_of(added)["links"]
    earlier = {"id": str(SECOND_LINK), "type": "relates_to", "ticket_id": str(A),
               "created_at": "2026-11-22T10:00:00Z"}
    assert change.from_ == [earlier]
    assert change.to == [earlier, {"id": str(LINK_ID), "type": "blocked_by",
                                   "ticket_id": str(B), "created_at": "2026-11-22T11:30:00Z"}]


def test_a_ticket_cannot_link_to_itself() -> None:
    ticket = linked()
    when(ticket, ticket.link, LINK_ID, LinkType.RELATES_TO, TICKET_ID).then_error(
        LinkNotAllowed, match="itself")


@pytest.mark.parametrize("kind", list(LinkType))
def test_two_tickets_already_linked_take_no_second_link_of_any_type(kind: LinkType) -> None:
    ticket = linked(TICKET_ID, link(LinkType.RELATES_TO))
    when(ticket, ticket.link, SECOND_LINK, kind, OTHER_TICKET_ID).then_error(
        LinkNotAllowed, match="linked already")


def test_unlinking_records_this_end_and_keeps_the_other_links() -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKS), link(LinkType.RELATES_TO, A, SECOND_LINK))
    when(ticket, ticket.unlink, LINK_ID).then(
        (Ticket.LinkRemoved, {"link_id": LINK_ID, "type": LinkType.BLOCKS,
                              "linked_ticket_id": OTHER_TICKET_ID})
    )
    assert [x.id for x in ticket.links] == [SECOND_LINK]


def test_unlinking_an_unknown_link_is_refused() -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKS))
    when(ticket, ticket.unlink, SECOND_LINK).then_error(UnknownLink)


# --- blocked tickets ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", [Status.RESOLVED, Status.CLOSED])
@pytest.mark.parametrize("blocker_status", [Status.OPEN, Status.IN_PROGRESS])
def test_a_ticket_blocked_by_unfinished_tickets_cannot_be_finished(
    target: Status, blocker_status: Status
) -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKED_BY, A),
                    link(LinkType.BLOCKED_BY, B, SECOND_LINK), status=Status.IN_PROGRESS)
    blockers = {A: Blocker("WEB-7", blocker_status), B: Blocker("WEB-9", Status.CLOSED)}
    error = when(ticket, resolve(ticket, blockers), target).then_error(TicketBlocked)
    assert isinstance(error, TicketBlocked)
    assert error.keys == ("WEB-7",)
    assert "WEB-7" in str(error) and "WEB-9" not in str(error)


@pytest.mark.parametrize("blocker_status", [Status.RESOLVED, Status.CLOSED])
def test_finished_blockers_let_the_ticket_be_resolved(blocker_status: Status) -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKED_BY, A), status=Status.IN_PROGRESS)
    when(ticket, resolve(ticket, {A: Blocker("WEB-7", blocker_status)}), Status.RESOLVED).then(
        (Ticket.StatusChanged, {"status": Status.RESOLVED})
    )


def test_a_blocked_ticket_still_moves_between_unfinished_statuses() -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKED_BY, A))
    when(ticket, resolve(ticket, {}), Status.IN_PROGRESS).then(Ticket.StatusChanged)


def test_what_a_ticket_blocks_does_not_hold_it_back() -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKS, A), status=Status.IN_PROGRESS)
    when(ticket, resolve(ticket, {}), Status.RESOLVED).then(Ticket.StatusChanged)


def test_deciding_without_every_blocker_is_a_programming_error() -> None:
    ticket = linked(TICKET_ID, link(LinkType.BLOCKED_BY, A), status=Status.IN_PROGRESS)
    with pytest.raises(ValueError, match="blockers"):
        ticket.edit(Stamp(A, A, LATER), TicketEdit(status=Status.RESOLVED), {})


# --- parents and teams --------------------------------------------------------------------------


def test_a_parent_is_set_changed_and_cleared() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), parent_id=A).then(
        (Ticket.ParentChanged, {"old_parent_id": None, "parent_id": A}))
    when(ticket, edit(ticket), parent_id=B).then(
        (Ticket.ParentChanged, {"old_parent_id": A, "parent_id": B}))
    when(ticket, edit(ticket), parent_id=B).then_nothing()
    when(ticket, edit(ticket), parent_id=None).then(
        (Ticket.ParentChanged, {"old_parent_id": B, "parent_id": None}))
    assert ticket.parent_id is None


def test_a_ticket_cannot_be_its_own_parent() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), parent_id=TICKET_ID).then_error(CycleNotAllowed)


def test_a_ticket_goes_into_a_team_and_out_of_it() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), team_id=TEAM_ID).then(
        (Ticket.TeamChanged, {"old_team_id": None, "team_id": TEAM_ID}))
    when(ticket, edit(ticket), team_id=None).then(
        (Ticket.TeamChanged, {"old_team_id": TEAM_ID, "team_id": None}))


def test_a_ticket_opens_with_its_parent_and_team_at_version_one() -> None:
    fields: dict[str, Any] = {"ticket_id": TICKET_ID, "project_id": A, "number": 2,
                              "title": "Sub", "parent_id": B, "team_id": TEAM_ID}
    (created,) = when(None, Ticket.open, **fields).then(
        (Ticket.Created, {"parent_id": B, "team_id": TEAM_ID}))
    ticket = created.mutate(None)
    assert (ticket.version, ticket.parent_id, ticket.team_id, ticket.links) == (
        1, B, TEAM_ID, ())


def test_a_ticket_created_before_parents_and_teams_existed_has_neither() -> None:
    """Its stored Created event has no such fields: they default to none."""
    stored = a_ticket().events[0]
    assert (stored.parent_id, stored.team_id) == (None, None)


# --- the graph rules ---------------------------------------------------------------------------


def blocking(*edges: tuple[UUID, UUID]) -> Callable[[UUID], list[UUID]]:
    return lambda t: [blocked for blocker, blocked in edges if blocker == t]


def test_a_blocking_link_back_along_a_chain_closes_a_cycle() -> None:
    graph = blocking((A, B), (B, C))
    assert closes_blocking_cycle(C, A, graph)
    assert closes_blocking_cycle(B, A, graph)
    assert not closes_blocking_cycle(A, C, graph)
    assert not closes_blocking_cycle(D, A, graph)


def test_a_ticket_blocking_itself_is_a_cycle() -> None:
    assert closes_blocking_cycle(A, A, blocking())


def test_the_blocking_walk_ends_on_graphs_that_already_loop() -> None:
    graph = blocking((A, B), (B, A), (C, D))
    assert not closes_blocking_cycle(D, A, graph)


def test_a_parent_among_the_descendants_closes_a_cycle() -> None:
    parents = {B: A, C: B}
    assert closes_parent_cycle(A, C, parents.get)
    assert closes_parent_cycle(A, A, parents.get)
    assert not closes_parent_cycle(C, A, parents.get)
    assert not closes_parent_cycle(D, C, parents.get)
