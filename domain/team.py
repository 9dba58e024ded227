"""The Team aggregate: a named group of people (the documents' departments) with a lead.

Members see the team's tickets whatever their role; the lead works them as a developer does.
The lead is always a member. Who belongs to which team is recorded on the team here AND on each
user it affects (`User.TeamsChanged`), in the same atomic save, so authorization reads it from
the user it loads anyway, with no read model to wait for.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import FieldError, require
from domain.stamped import StampedAggregate
from domain.values import NAME_MAX, NAME_MIN, Stamp, clean_line


def clean_team_name(errors: list[FieldError], value: str) -> str:
    return clean_line(errors, "name", value, low=NAME_MIN, high=NAME_MAX)


class Team(StampedAggregate):
    TOPIC = "trail.Team"

    class Event(Aggregate.Event):
        TOPIC = "trail.Team.Event"
        actor_id: UUID
        command_id: UUID

    class Formed(Event, Aggregate.Created):
        TOPIC = "trail.Team.Formed"
        name: str
        lead_id: UUID | None
        member_ids: tuple[UUID, ...]

    class Renamed(Event):
        TOPIC = "trail.Team.Renamed"
        old_name: str
        name: str

        def apply(self, team: Team) -> None:
            team.name = self.name

    class LeadChanged(Event):
        TOPIC = "trail.Team.LeadChanged"
        old_lead_id: UUID | None
        lead_id: UUID | None

        def apply(self, team: Team) -> None:
            team.lead_id = self.lead_id

    class MembersChanged(Event):
        TOPIC = "trail.Team.MembersChanged"
        old_member_ids: tuple[UUID, ...]
        member_ids: tuple[UUID, ...]

        def apply(self, team: Team) -> None:
            team.member_ids = self.member_ids

    def __init__(
        self,
        *,
        actor_id: UUID,
        command_id: UUID,
        name: str,
        lead_id: UUID | None,
        member_ids: tuple[UUID, ...],
    ) -> None:
        self.name = name
        self.lead_id = lead_id
        self.member_ids = member_ids

    @classmethod
    def form(cls, stamp: Stamp, *, team_id: UUID, name: str, lead_id: UUID | None) -> Team:
        errors: list[FieldError] = []
        clean = clean_team_name(errors, name)
        require(errors)
        members = () if lead_id is None else (lead_id,)
        return cls._begin(cls.Formed, stamp, team_id, name=clean, lead_id=lead_id,
                          member_ids=members)

    def rename(self, stamp: Stamp, name: str) -> None:
        errors: list[FieldError] = []
        clean = clean_team_name(errors, name)
        require(errors)
        if clean != self.name:
            self._record(stamp, self.Renamed, old_name=self.name, name=clean)

    def change_lead(self, stamp: Stamp, lead_id: UUID | None) -> None:
        """A new lead who was not a member becomes one; the old lead stays a member."""
        if lead_id == self.lead_id:
            return
        self._record(stamp, self.LeadChanged, old_lead_id=self.lead_id, lead_id=lead_id)
        if lead_id is not None and lead_id not in self.member_ids:
            self._record(stamp, self.MembersChanged, old_member_ids=self.member_ids,
                         member_ids=(*self.member_ids, lead_id))

    def set_members(self, stamp: Stamp, user_ids: Iterable[UUID]) -> None:
        """The whole new list, in the order given; it must keep the lead."""
        members = tuple(dict.fromkeys(user_ids))
        if self.lead_id is not None and self.lead_id not in members:
            require([FieldError("user_ids", "must include the team's lead")])
        if members != self.member_ids:
            self._record(stamp, self.MembersChanged, old_member_ids=self.member_ids,
                         member_ids=members)

    def is_member(self, user_id: UUID) -> bool:
        return user_id in self.member_ids
