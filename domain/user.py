"""The User aggregate: identity, role and status. Passwords are credentials, not events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import FieldError, TransitionNotAllowed, require
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

    class Reactivated(Event):
        TOPIC = "trail.User.Reactivated"

        def apply(self, user: User) -> None:
            user.status = UserStatus.ACTIVE

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
        """Pending is where self-registration starts; no account goes back to it, and none
        becomes active without an approval on record."""
        if status == self.status:
            return
        if status is UserStatus.DEACTIVATED:
            self._record(stamp, self.Deactivated, old_status=self.status)
        elif status is UserStatus.ACTIVE and not self.approved:
            # An account deactivated while it still waited is approved, not reactivated.
            self._record(stamp, self.Approved)
        elif status is UserStatus.ACTIVE:
            self._record(stamp, self.Reactivated)
        else:
            raise TransitionNotAllowed(
                f"status cannot change from {self.status.value} to {status.value}"
            )

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    @property
    def can_be_assigned(self) -> bool:
        return self.is_active and self.role is not Role.REPORTER
