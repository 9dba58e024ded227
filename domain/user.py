"""The User aggregate: identity, role and status. Passwords are credentials, not events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import FieldError, require
from domain.stamped import StampedAggregate
from domain.values import EmailPreference, Role, Stamp, UserStatus, clean_name


class User(StampedAggregate):
    TOPIC = "trail.User"

    class Event(Aggregate.Event):
        TOPIC = "trail.User.Event"
        actor_id: UUID
        command_id: UUID

    class Registered(Event, Aggregate.Created):
        TOPIC = "trail.User.Registered"
        name: str
        email: str
        role: Role
        status: UserStatus

    class Approved(Event):
        TOPIC = "trail.User.Approved"

        def apply(self, user: User) -> None:
            user.status = UserStatus.ACTIVE
            user.approved = True

    class RoleChanged(Event):
        TOPIC = "trail.User.RoleChanged"
        old_role: Role
        role: Role

        def apply(self, user: User) -> None:
            user.role = self.role

    class Renamed(Event):
        TOPIC = "trail.User.Renamed"
        old_name: str
        name: str

        def apply(self, user: User) -> None:
            user.name = self.name

    class PasswordChanged(Event):
        """The fact only, never the secret: access issued before it stops working."""

        TOPIC = "trail.User.PasswordChanged"

        def apply(self, user: User) -> None:
            user.password_changed_at = self.timestamp

    class EmailPreferenceChanged(Event):
        """How the user wants email about its tickets: each change, a daily digest, or none."""

        TOPIC = "trail.User.EmailPreferenceChanged"
        old_preference: EmailPreference
        preference: EmailPreference

        def apply(self, user: User) -> None:
            user.email_preference = self.preference

    class Deactivated(Event):
        TOPIC = "trail.User.Deactivated"
        old_status: UserStatus

        def apply(self, user: User) -> None:
            user.status = UserStatus.DEACTIVATED

    class MadePending(Event):
        """An admin set the account back to waiting for approval: it cannot log in (403) nor
        act until set active again."""

        TOPIC = "trail.User.MadePending"
        old_status: UserStatus

        def apply(self, user: User) -> None:
            user.status = UserStatus.PENDING

    class Reactivated(Event):
        TOPIC = "trail.User.Reactivated"

        def apply(self, user: User) -> None:
            user.status = UserStatus.ACTIVE

    class TeamsChanged(Event):
        """The teams the user is a member of, and those it leads, after a change to one team
        (recorded with that team's event, in the same save)."""

        TOPIC = "trail.User.TeamsChanged"
        old_team_ids: tuple[UUID, ...]
        team_ids: tuple[UUID, ...]
        old_led_team_ids: tuple[UUID, ...]
        led_team_ids: tuple[UUID, ...]

        def apply(self, user: User) -> None:
            user.team_ids = self.team_ids
            user.led_team_ids = self.led_team_ids

    def __init__(
        self,
        *,
        actor_id: UUID,
        command_id: UUID,
        name: str,
        email: str,
        role: Role,
        status: UserStatus,
    ) -> None:
        self.name = name
        self.email = email
        self.role = role
        self.status = status
        self.approved = status is not UserStatus.PENDING
        self.password_changed_at: datetime | None = None
        self.email_preference = EmailPreference.EACH_CHANGE
        self.team_ids: tuple[UUID, ...] = ()
        self.led_team_ids: tuple[UUID, ...] = ()

    @classmethod
    def register(
        cls,
        stamp: Stamp,
        *,
        user_id: UUID,
        name: str,
        email: str,
        role: Role,
        status: UserStatus,
    ) -> User:
        """`email` arrives validated and normalised: checking addresses is not a domain rule."""
        errors: list[FieldError] = []
        clean = clean_name(errors, name)
        require(errors)
        return cls._begin(
            cls.Registered,
            stamp,
            user_id,
            name=clean,
            email=email,
            role=role,
            status=status,
        )

    def rename(self, stamp: Stamp, name: str) -> None:
        errors: list[FieldError] = []
        clean = clean_name(errors, name)
        require(errors)
        if clean != self.name:
            self._record(stamp, self.Renamed, old_name=self.name, name=clean)

    def choose_email(self, stamp: Stamp, preference: EmailPreference) -> None:
        if preference != self.email_preference:
            self._record(stamp, self.EmailPreferenceChanged,
                         old_preference=self.email_preference, preference=preference)

    def record_password_change(self, stamp: Stamp) -> None:
        self._record(stamp, self.PasswordChanged)

    def change_role(self, stamp: Stamp, role: Role) -> None:
        if role != self.role:
            self._record(stamp, self.RoleChanged, old_role=self.role, role=role)

    def change_status(self, stamp: Stamp, status: UserStatus) -> None:
        """An admin may set any status (the contract's precise rules). No account becomes
        active without an approval on record: the first time is an approval, later ones a
        reactivation."""
        if status == self.status:
            return
        if status is UserStatus.DEACTIVATED:
            self._record(stamp, self.Deactivated, old_status=self.status)
        elif status is UserStatus.PENDING:
            self._record(stamp, self.MadePending, old_status=self.status)
        elif not self.approved:
            # An account deactivated while it still waited is approved, not reactivated.
            self._record(stamp, self.Approved)
        else:
            self._record(stamp, self.Reactivated)

    def reflect_team(self, stamp: Stamp, team_id: UUID, *, member: bool, lead: bool) -> None:
        """Record what the user is to `team_id` now, as the team's own change decided."""
        team_ids = _with(self.team_ids, team_id, member)
        led_team_ids = _with(self.led_team_ids, team_id, lead)
        if (team_ids, led_team_ids) != (self.team_ids, self.led_team_ids):
            self._record(
                stamp, self.TeamsChanged,
                old_team_ids=self.team_ids, team_ids=team_ids,
                old_led_team_ids=self.led_team_ids, led_team_ids=led_team_ids,
            )

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def can_be_assigned(self) -> bool:
        return self.is_active and self.role is not Role.REPORTER


def _with(ids: tuple[UUID, ...], item: UUID, present: bool) -> tuple[UUID, ...]:
    if present:
        return ids if item in ids else (*ids, item)
    return tuple(i for i in ids if i != item)
