"""Teams: form, rename, change the lead (admins), set the members (admins and the team's lead).

Membership is written twice in one atomic save: on the team, and on every user whose place in
it changed (`User.TeamsChanged`). Authorization reads a caller's teams from its user, which it
loads for every request anyway, so a new member sees the team's tickets on its next request.
Names are unique ignoring case through a claim saved with the team, as project names are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar
from uuid import UUID

from msgspec import UNSET

from commands.base import Outcome, Service
from commands.errors import Forbidden
from commands.messages import ChangeTeam, CreateTeam, SetTeamMembers
from commands.permissions import Actor, require_admin
from domain.claim import Claim, claim_id
from domain.errors import FieldError, InvalidFields, require
from domain.team import Team
from domain.user import User
from domain.values import Stamp

NAME_CLAIM = "team-name"

T = TypeVar("T")


class Teams(Service):
    def get(self, team_id: UUID) -> Team:
        return self._load(Team, team_id, "team")

    def create(self, actor: Actor, command: CreateTeam) -> Outcome[Team]:
        require_admin(actor)
        team_id = self.new_id()

        def attempt() -> Outcome[Team]:
            stamp = self._stamp(actor.id)
            leads = [] if command.lead_id is None else [command.lead_id]
            errors = self._people_errors("lead_id", leads)
            team = _together(errors, lambda: Team.form(
                stamp, team_id=team_id, name=command.name, lead_id=command.lead_id))
            claim = self._claim(stamp, NAME_CLAIM, team.name.casefold(), team_id, field="name")
            return self._save(team, claim, *self._reflected(stamp, team, (), None))

        return self._retrying(attempt, "team")

    def change(self, actor: Actor, command: ChangeTeam) -> Outcome[Team]:
        """Rename it, or give it another lead (or none): admins only."""
        require_admin(actor)

        def attempt() -> Outcome[Team]:
            team = self.get(command.team_id)
            stamp = self._stamp(actor.id)
            before, lead_before = team.member_ids, team.lead_id
            lead_id = command.lead_id
            new_lead = [lead_id] if isinstance(lead_id, UUID) and lead_id != team.lead_id else []
            errors = self._people_errors("lead_id", new_lead)
            name = command.name
            claims = [] if name is UNSET else _together(
                errors, lambda: self._renamed(stamp, team, name))
            require(errors)
            if lead_id is not UNSET:
                team.change_lead(stamp, lead_id)
            return self._save(team, *claims,
                              *self._reflected(stamp, team, before, lead_before))

        return self._retrying(attempt, "team")

    def set_members(self, actor: Actor, command: SetTeamMembers) -> Outcome[Team]:
        """The whole new list: admins, and the team's own lead."""

        def attempt() -> Outcome[Team]:
            team = self.get(command.team_id)
            if not actor.is_admin and actor.id != team.lead_id:
                raise Forbidden("only an admin or the team's lead may set its members")
            added = [u for u in command.user_ids if u not in team.member_ids]
            require(self._people_errors("user_ids", added))
            stamp = self._stamp(actor.id)
            before = team.member_ids
            team.set_members(stamp, command.user_ids)
            return self._save(team, *self._reflected(stamp, team, before, team.lead_id))

        return self._retrying(attempt, "team")

    def _renamed(self, stamp: Stamp, team: Team, name: str) -> list[Claim]:
        """The claims a rename takes and releases (none when only the case changes)."""
        old_name = team.name
        team.rename(stamp, name)
        if team.name.casefold() == old_name.casefold():
            return []
        taken = self._claim(stamp, NAME_CLAIM, team.name.casefold(), team.id, field="name")
        released = self._load(Claim, claim_id(NAME_CLAIM, old_name.casefold()), "claim")
        released.release(stamp)
        return [taken, released]

    def _reflected(
        self, stamp: Stamp, team: Team, members_before: Iterable[UUID], lead_before: UUID | None
    ) -> list[User]:
        """Every user whose place in `team` the command changed, with that recorded (only
        those are loaded: setting a large team's members touches the few who came or went)."""
        moved = set(members_before) ^ set(team.member_ids)
        if lead_before != team.lead_id:
            moved |= {u for u in (lead_before, team.lead_id) if u is not None}
        changed = []
        for user_id in sorted(moved):
            user = self._load(User, user_id, "user")
            user.reflect_team(stamp, team.id, member=user_id in team.member_ids,
                              lead=user_id == team.lead_id)
            if user.pending_events:
                changed.append(user)
        return changed

    def _people_errors(self, field: str, user_ids: Iterable[UUID]) -> list[FieldError]:
        """Someone new to a team must be an active user."""
        for user_id in user_ids:
            user = self._find(User, user_id)
            if user is None or not user.is_active:
                return [FieldError(field, f"{user_id} is not an active user")]
        return []


def _together(errors: list[FieldError], decide: Callable[[], T]) -> T:
    """Run a domain decision; its invalid fields and `errors` are refused together, so the
    answer names every bad field at once."""
    try:
        decided = decide()
    except InvalidFields as invalid:
        raise InvalidFields([*invalid.errors, *errors]) from None
    require(errors)
    return decided
