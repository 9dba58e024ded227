"""Who may see a ticket: the one rule. Everything else (the read side's SQL filter, the event
streams, the web pages) is a translation of `may_see`, and a property test holds them equal.

Admins and developers see every ticket; anyone else sees the tickets it reported or is assigned
to, and the tickets of the teams it is a member of. A ticket answers "not found" to someone who
may not see it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

import msgspec

from domain.values import Role


class Viewer(msgspec.Struct, frozen=True):
    """Someone looking at tickets, with its role and its teams as they are now."""

    id: UUID
    role: Role
    team_ids: frozenset[UUID] = frozenset()
    """The teams it is a member of (the teams it leads among them)."""
    led_team_ids: frozenset[UUID] = frozenset()

    @property
    def sees_every_ticket(self) -> bool:
        return self.role is not Role.REPORTER


class Audience(Protocol):
    """What decides who may see a ticket."""

    @property
    def reporter_id(self) -> UUID: ...

    @property
    def assignee_ids(self) -> Collection[UUID]: ...

    @property
    def team_id(self) -> UUID | None: ...


def may_see(viewer: Viewer, ticket: Audience) -> bool:
    return (
        viewer.sees_every_ticket
        or viewer.id == ticket.reporter_id
        or viewer.id in ticket.assignee_ids
        or (ticket.team_id is not None and ticket.team_id in viewer.team_ids)
    )
