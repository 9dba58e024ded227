"""Accounts: registration, logging in, who the caller is now, changes to a user, password reset.

Passwords and reset tokens are credentials (`commands.credentials`), never events; registration,
role and status changes and the fact of a password change are User events.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from msgspec import UNSET

from commands.base import Outcome, Service, Trail
from commands.credentials import Credentials, password_errors
from commands.errors import AccountPending, Forbidden, InvalidResetToken, Unauthenticated
from commands.messages import ChangeUser, ChoosePreferences, RegisterUser
from commands.permissions import Actor, require_admin, require_self_or_admin
from domain.claim import Claim, claim_id
from domain.errors import FieldError, NameTaken, require
from domain.user import User
from domain.values import Role, UserStatus, clean_name, normalise_email
from eventlog.reading import latest_version

FIRST_ADMIN = claim_id("system", "first-admin")
# Accounts kept in memory between requests; when that many are kept, it starts afresh.
CALLERS_KEPT = 10_000


class Accounts(Service):
    def __init__(
        self,
        store: Trail,
        credentials: Credentials,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
        registration: str = "open",
    ) -> None:
        super().__init__(store, clock=clock, new_id=new_id)
        self.credentials = credentials
        self.registration = registration
        self._callers: dict[UUID, User] = {}

    def register(self, command: RegisterUser) -> Outcome[User]:
        errors: list[FieldError] = []
        name = clean_name(errors, command.name)
        email = _checked_email(errors, command.email)
        errors += password_errors("password", command.password)
        require(errors)
        if self._claim_holder("email", email) is not None:
            # Known before any hash is computed: a duplicate costs no argon2 hash.
            raise NameTaken("email is already taken")
        user_id = self.new_id()
        password_hash = self.credentials.hash(command.password)
        outcome = self._retrying(lambda: self._register(user_id, name, email), "account")
        # Stored once the account exists, so a registration that loses (a duplicate, even a
        # concurrent one) leaves no hash behind. A crash in between leaves an account with no
        # password, which a password reset sets.
        self.credentials.store_hash(user_id, password_hash, self.clock())
        return outcome

    def _register(self, user_id: UUID, name: str, email: str) -> Outcome[User]:
        stamp = self._stamp(user_id)
        first = self._find(Claim, FIRST_ADMIN) is None
        if first:
            role, status = Role.ADMIN, UserStatus.ACTIVE
        else:
            role = Role.REPORTER
            status = UserStatus.PENDING if self.registration == "approval" else UserStatus.ACTIVE
        user = User.register(
            stamp, user_id=user_id, name=name, email=email, role=role, status=status
        )
        claims = [self._claim(stamp, "email", email, user_id, field="email")]
        if first:
            claims.append(Claim.take_new(stamp, kind="system", key="first-admin", owner_id=user_id))
        return self._save(user, *claims)

    def authenticate(self, email: str, password: str) -> User:
        """Same answer for an unknown email and a wrong password; a pending account is told so."""
        owner = self._claim_holder("email", normalise_email(email))
        if not self.credentials.verify(owner, password) or owner is None:
            raise Unauthenticated("wrong email or password")
        user = self._load(User, owner, "user")
        if user.status is UserStatus.PENDING:
            raise AccountPending("this account waits for an admin's approval")
        if user.status is UserStatus.DEACTIVATED:
            raise Unauthenticated("wrong email or password")
        return user

    def actor(
        self, user_id: UUID, authenticated_at: datetime | None = None, *,
        whole_seconds: bool = False,
    ) -> Actor:
        """The caller as it is now: a deactivated or pending account acts no more, and access
        granted before its latest password change (`authenticated_at`) is void.

        The moment is compared exactly (access tokens carry microseconds, the web app's
        sessions milliseconds), so access granted earlier in the very second of a password
        reset dies with it. `whole_seconds` compares whole seconds only, which gives such
        access the benefit of the doubt: no caller of Trail's own asks for that."""
        user = self._caller(user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("this account may not act")
        changed = user.password_changed_at
        if changed and whole_seconds:
            changed = changed.replace(microsecond=0)
        if authenticated_at and changed and authenticated_at < changed:
            raise Unauthenticated("the password has changed since this token was issued")
        return Actor(
            id=user.id, role=user.role, name=user.name,
            team_ids=frozenset(user.team_ids), led_team_ids=frozenset(user.led_team_ids),
        )

    def _caller(self, user_id: UUID) -> User | None:
        """The user as its latest event leaves it. Every request asks who its caller is, so the
        account is kept from one request to the next and checked against the log each time (one
        index lookup) instead of replayed: a change, from any process, applies to the very next
        request. The kept copies are only read, never changed."""
        with self.store.datastore.get_connection() as conn:
            version = latest_version(conn, user_id)
        if version is None:
            return None
        kept = self._callers.get(user_id)
        if kept is not None and kept.version == version:
            return kept
        user = self._find(User, user_id)
        if user is not None:
            if len(self._callers) >= CALLERS_KEPT:
                self._callers.clear()
            self._callers[user_id] = user
        return user

    def user(self, user_id: UUID) -> User:
        return self._load(User, user_id, "user")

    def change_user(self, actor: Actor, command: ChangeUser) -> Outcome[User]:
        require_self_or_admin(actor, command.user_id)
        if command.role is not UNSET or command.status is not UNSET:
            require_admin(actor)
            if command.user_id == actor.id:
                # An admin demoting or deactivating itself could leave nobody to undo it.
                _refuse_self_demotion(command)

        def attempt() -> Outcome[User]:
            user = self._load(User, command.user_id, "user")
            stamp = self._stamp(actor.id)
            if command.name is not UNSET:
                user.rename(stamp, command.name)
            if command.role is not UNSET:
                user.change_role(stamp, command.role)
            if command.status is not UNSET:
                user.change_status(stamp, command.status)
            return self._save(user)

        return self._retrying(attempt, "user")

    def choose_preferences(self, actor: Actor, command: ChoosePreferences) -> Outcome[User]:
        """The caller's own preferences; a change is a User event."""

        def attempt() -> Outcome[User]:
            user = self._load(User, actor.id, "user")
            user.choose_email(self._stamp(actor.id), command.email)
            return self._save(user)

        return self._retrying(attempt, "user")

    def start_password_reset(self, email: str) -> tuple[User, str] | None:
        """Issue a reset token for a known, not deactivated account; None otherwise, so the
        caller can answer the same either way."""
        owner = self._claim_holder("email", normalise_email(email))
        if owner is None:
            return None
        user = self._load(User, owner, "user")
        if user.status is UserStatus.DEACTIVATED:
            return None
        token = secrets.token_urlsafe(32)
        self.credentials.issue_reset_token(user.id, token, self.clock())
        return user, token

    def finish_password_reset(self, token: str, new_password: str) -> Outcome[User]:
        require(password_errors("new_password", new_password))
        user_id = self.credentials.redeem_reset_token(token, new_password, self.clock())
        if user_id is None:
            raise InvalidResetToken("the reset token is unknown, used or expired")

        def attempt() -> Outcome[User]:
            user = self._load(User, user_id, "user")
            user.record_password_change(self._stamp(user_id))
            return self._save(user)

        return self._retrying(attempt, "user")


def _checked_email(errors: list[FieldError], email: str) -> str:
    try:
        validated = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as e:
        errors.append(FieldError("email", str(e)))
        return email
    return normalise_email(validated.normalized)


def _refuse_self_demotion(command: ChangeUser) -> None:
    if command.role not in (UNSET, Role.ADMIN) or command.status not in (
        UNSET,
        UserStatus.ACTIVE,
    ):
        raise Forbidden("an admin cannot take away its own role or deactivate itself")
