"""Links between tickets and the parent of a ticket: the kinds of link, how each end sees one,
and the two graph rules (no blocking cycle, no parent cycle).

A link is one fact with one id, recorded on both tickets: each end keeps it with the `type` seen
from there (`blocks` on one end is `blocked_by` on the other). The graph rules walk other
tickets, which the domain does not load: the write side passes a way to read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from domain.values import Status


class LinkType(StrEnum):
    BLOCKS = "blocks"
    BLOCKED_BY = "blocked_by"
    DUPLICATES = "duplicates"
    DUPLICATED_BY = "duplicated_by"
    RELATES_TO = "relates_to"

    @property
    def inverse(self) -> LinkType:
        """The type the other end sees."""
        return _INVERSE[self]


_INVERSE = {
    LinkType.BLOCKS: LinkType.BLOCKED_BY,
    LinkType.BLOCKED_BY: LinkType.BLOCKS,
    LinkType.DUPLICATES: LinkType.DUPLICATED_BY,
    LinkType.DUPLICATED_BY: LinkType.DUPLICATES,
    LinkType.RELATES_TO: LinkType.RELATES_TO,
}

# Only these form cycles; duplicates and relations may go round in circles harmlessly.
BLOCKING = frozenset({LinkType.BLOCKS, LinkType.BLOCKED_BY})


class Link(msgspec.Struct, frozen=True):
    """A link as one of its ends holds it: `type` seen from this end, `ticket_id` the other."""

    id: UUID
    type: LinkType
    ticket_id: UUID
    created_at: datetime


class Blocker(msgspec.Struct, frozen=True):
    """A ticket that blocks another, as the rule on resolving needs it: its key names it in the
    refusal, its status decides."""

    key: str
    status: Status


def reaches(start: UUID, goal: UUID, successors: Callable[[UUID], Iterable[UUID]]) -> bool:
    """Whether `goal` is `start` or can be reached from it by following `successors`."""
    seen = {start}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        for following in successors(node):
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return False


def closes_blocking_cycle(
    blocker: UUID, blocked: UUID, blocks: Callable[[UUID], Iterable[UUID]]
) -> bool:
    """Whether "`blocker` blocks `blocked`" would close a cycle: `blocked` already blocks
    `blocker`, directly or through others. `blocks(t)` is what ticket `t` blocks now."""
    return reaches(blocked, blocker, blocks)


def closes_parent_cycle(
    child: UUID, parent: UUID, parent_of: Callable[[UUID], UUID | None]
) -> bool:
    """Whether making `parent` the parent of `child` would close a cycle: `parent` is `child`
    or one of its descendants. `parent_of(t)` is the parent of ticket `t` now."""

    def up(ticket_id: UUID) -> Iterable[UUID]:
        above = parent_of(ticket_id)
        return () if above is None else (above,)

    return reaches(parent, child, up)
