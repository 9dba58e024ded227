"""The Trail application service: load, authorize, decide, save; retry on concurrent conflicts."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from email_validator import EmailNotValidError, validate_email
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.postgres import PostgresDatastore
from msgspec import UNSET

from commands.audit import Audit
from commands.credentials import Credentials, password_errors
from commands.errors import (
    AccountPending,
    Conflict,
    Forbidden,
    InvalidResetToken,
    NotFound,
    Unauthenticated,
    VersionMismatch,
)
from commands.mapper import JsonEventMapper
from commands.messages import (
    ArchiveProject,
    AssignTicket,
    ChangeUser,
    Command,
    CommentOnTicket,
    CreateProject,
    CreateTicket,
    EditComment,
    EditTicket,
    Outcome,
    RegisterUser,
    ReviseProject,
)
from commands.numbering import TicketNumbers
from commands.permissions import (
    Actor,
    require_admin,
    require_self_or_admin,
    require_ticket_worker,
    require_visible,
)
from domain.claim import Claim, claim_id
from domain.errors import FieldError, InvalidFields, NameTaken, require
from domain.project import Project
from domain.ticket import Ticket
from domain.user import User
from domain.values import (
    Role,
    Stamp,
    UserStatus,
    clean_name,
    derive_project_key,
    normalise_email,
)

A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 30
SYSTEM_ACTOR = UUID(int=0)
FIRST_ADMIN = claim_id("system", "first-admin")


class _Contended(Exception):
    """A decision went stale before it was saved; decide again as after a version conflict."""


class Trail(Application[UUID]):
    name = "trail"
    env: ClassVar[dict[str, str]] = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "ORIGINATOR_ID_TYPE": "uuid",
        "SINGLE_ROW_TRACKING": "y",
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], UUID] = uuid4,
        registration: str = "open",
    ) -> None:
        super().__init__(env)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.new_id = new_id
        self.registration = registration
        self.datastore: PostgresDatastore = self.recorder.datastore  # type: ignore[attr-defined]
        self.credentials = Credentials(self.datastore)
        self.numbers = TicketNumbers(self.datastore)
        self.audit = Audit(self.datastore, self.mapper, f"{self.name}_events")
        self.credentials.create_tables()
        self.numbers.create_tables()

    def construct_mapper(self) -> Mapper[UUID]:
        return JsonEventMapper()

    # --- plumbing --------------------------------------------------------------------------

    def _stamp(self, actor_id: UUID) -> Stamp:
        return Stamp(actor_id=actor_id, command_id=self.new_id(), at=self.clock())

    def _load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no such {what}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no such {what}")
        return aggregate

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _save(self, subject: Aggregate, *others: Aggregate) -> Outcome:
        recordings = self.save(subject, *others)
        recorded = [r for r in recordings if r.domain_event.originator_id == subject.id]
        position = max((r.notification.id for r in recordings), default=None)
        return Outcome(
            id=subject.id,
            version=subject.version,
            position=position if position is not None else self.current_position(),
            recorded=len(recorded),
        )

    def _retrying(self, attempt: Callable[[], Outcome]) -> Outcome:
        """Run a load-decide-save attempt again when a concurrent writer got there first."""
        for n in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except (IntegrityError, _Contended):
                time.sleep(random.uniform(0, 0.002 * (n + 1)))
        raise Conflict("the ticket kept changing under this command; try again")

    def current_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # --- users ----------------------------------------------------------------------------

    def register(self, command: RegisterUser) -> Outcome:
        errors: list[FieldError] = []
        name = clean_name(errors, command.name)
        email = self._checked_email(errors, command.email)
        errors += password_errors("password", command.password)
        require(errors)
        user_id = self.new_id()
        # The hash goes first: a crash before the save leaves an orphan hash nobody can use.
        self.credentials.set_password(user_id, command.password, self.clock())
        return self._retrying(lambda: self._register(user_id, name, email))

    def _register(self, user_id: UUID, name: str, email: str) -> Outcome:
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

    def _claim(self, stamp: Stamp, kind: str, key: str, owner_id: UUID, *, field: str) -> Claim:
        claim = self._find(Claim, claim_id(kind, key))
        if claim is None:
            return Claim.take_new(stamp, kind=kind, key=key, owner_id=owner_id)
        try:
            claim.take(stamp, owner_id)
        except NameTaken:
            raise NameTaken(f"{field} is already taken") from None
        return claim

    @staticmethod
    def _checked_email(errors: list[FieldError], email: str) -> str:
        try:
            validated = validate_email(email.strip(), check_deliverability=False)
        except EmailNotValidError as e:
            errors.append(FieldError("email", str(e)))
            return email
        return normalise_email(validated.normalized)

    def authenticate(self, email: str, password: str) -> User:
        """Same answer for an unknown email and a wrong password; a pending account is told so."""
        claim = self._find(Claim, claim_id("email", normalise_email(email)))
        owner = claim.owner_id if claim else None
        if not self.credentials.verify(owner, password) or owner is None:
            raise Unauthenticated("wrong email or password")
        user = self._load(User, owner, "user")
        if user.status is UserStatus.PENDING:
            raise AccountPending("this account waits for an admin's approval")
        if user.status is UserStatus.DEACTIVATED:
            raise Unauthenticated("wrong email or password")
        return user

    def actor(self, user_id: UUID, authenticated_at: datetime | None = None) -> Actor:
        """The caller as it is now: a deactivated or pending account acts no more, and access
        granted before its latest password change (`authenticated_at`) is void."""
        user = self._find(User, user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("this account may not act")
        changed = user.password_changed_at
        # Tokens carry whole seconds.
        if authenticated_at and changed and authenticated_at < changed.replace(microsecond=0):
            raise Unauthenticated("the password has changed since this token was issued")
        return Actor(id=user.id, role=user.role, name=user.name)

    def user(self, user_id: UUID) -> User:
        return self._load(User, user_id, "user")

    def change_user(self, actor: Actor, command: ChangeUser) -> Outcome:
        require_self_or_admin(actor, command.user_id)
        if command.role is not UNSET or command.status is not UNSET:
            require_admin(actor)
            if command.user_id == actor.id:
                # An admin demoting or deactivating itself could leave nobody to undo it.
                self._refuse_self_demotion(command)

        def attempt() -> Outcome:
            user = self._load(User, command.user_id, "user")
            stamp = self._stamp(actor.id)
            if command.name is not UNSET:
                user.rename(stamp, command.name)
            if command.role is not UNSET:
                user.change_role(stamp, command.role)
            if command.status is not UNSET:
                user.change_status(stamp, command.status)
            return self._save(user)

        return self._retrying(attempt)

    @staticmethod
    def _refuse_self_demotion(command: ChangeUser) -> None:
        if command.role not in (UNSET, Role.ADMIN) or command.status not in (
            UNSET,
            UserStatus.ACTIVE,
        ):
            raise Forbidden("an admin cannot take away its own role or deactivate itself")

    def start_password_reset(self, email: str) -> tuple[User, str] | None:
        """Issue a reset token for a known, not deactivated account; None otherwise, so the
        caller can answer the same either way."""
        claim = self._find(Claim, claim_id("email", normalise_email(email)))
        if claim is None or claim.owner_id is None:
            return None
        user = self._load(User, claim.owner_id, "user")
        if user.status is UserStatus.DEACTIVATED:
            return None
        token = secrets.token_urlsafe(32)
        self.credentials.issue_reset_token(user.id, token, self.clock())
        return user, token

    def finish_password_reset(self, token: str, new_password: str) -> UUID:
        require(password_errors("new_password", new_password))
        user_id = self.credentials.redeem_reset_token(token, new_password, self.clock())
        if user_id is None:
            raise InvalidResetToken("the reset token is unknown, used or expired")

        def attempt() -> Outcome:
            user = self._load(User, user_id, "user")
            user.record_password_change(self._stamp(user_id))
            return self._save(user)

        self._retrying(attempt)
        return user_id

    # --- projects ---------------------------------------------------------------------------

    def create_project(self, actor: Actor, command: CreateProject) -> Outcome:
        require_admin(actor)
        project_id = self.new_id()
        return self._retrying(lambda: self._create_project(actor, project_id, command))

    def _create_project(self, actor: Actor, project_id: UUID, command: CreateProject) -> Outcome:
        stamp = self._stamp(actor.id)
        key = command.key if command.key is not None else self._free_key(command.name)
        project = Project.start(
            stamp, project_id=project_id, name=command.name, key=key,
            description=command.description,
        )
        name_claim = self._claim(
            stamp, "project-name", project.name.casefold(), project_id, field="name"
        )
        try:
            key_claim = self._claim(stamp, "project-key", project.key, project_id, field="key")
        except NameTaken:
            if command.key is not None:
                raise
            # Someone took the derived key since it was picked: pick again, as after a conflict.
            raise _Contended from None
        return self._save(project, name_claim, key_claim)

    def _free_key(self, name: str) -> str:
        """A derived key that is not taken yet: ABC, then ABC2, ABC3…"""
        base = derive_project_key(name)
        candidate, n = base, 1
        while self._claim_holder("project-key", candidate) is not None:
            n += 1
            candidate = f"{base[: 10 - len(str(n))]}{n}"
        return candidate

    def _claim_holder(self, kind: str, key: str) -> UUID | None:
        claim = self._find(Claim, claim_id(kind, key))
        return claim.owner_id if claim else None

    def project(self, project_id: UUID) -> Project:
        return self._load(Project, project_id, "project")

    def revise_project(self, actor: Actor, command: ReviseProject) -> Outcome:
        require_admin(actor)

        def attempt() -> Outcome:
            project = self._load(Project, command.project_id, "project")
            stamp = self._stamp(actor.id)
            old_name = project.name
            project.revise(stamp, name=command.name, description=command.description)
            if project.name.casefold() == old_name.casefold():
                return self._save(project)
            taken = self._claim(
                stamp, "project-name", project.name.casefold(), project.id, field="name"
            )
            released = self._load(Claim, claim_id("project-name", old_name.casefold()), "claim")
            released.release(stamp)
            return self._save(project, taken, released)

        return self._retrying(attempt)

    def archive_project(self, actor: Actor, command: ArchiveProject) -> Outcome:
        require_admin(actor)

        def attempt() -> Outcome:
            project = self._load(Project, command.project_id, "project")
            project.archive(self._stamp(actor.id))
            return self._save(project)

        return self._retrying(attempt)

    # --- tickets ----------------------------------------------------------------------------

    def create_ticket(self, actor: Actor, command: CreateTicket) -> Outcome:
        project = self._find(Project, command.project_id)
        errors: list[FieldError] = []
        if project is None:
            errors.append(FieldError("project_id", "no such project"))
        if command.assignee_ids:
            require_ticket_worker(actor, "assignees")
            errors += self._assignee_errors("assignee_ids", command.assignee_ids)
        require(errors)
        assert project is not None
        stamp = self._stamp(actor.id)
        ticket_id = self.new_id()
        # Check every field (422) before the project's state (409), and both before a number
        # is spent on the ticket.
        Ticket.open(stamp, ticket_id=ticket_id, project_id=project.id, number=0, **_fields(command))
        project.accept_tickets()
        number = self.numbers.next(project.id)
        ticket = Ticket.open(
            stamp, ticket_id=ticket_id, project_id=project.id, number=number, **_fields(command)
        )
        return self._save(ticket)

    def _assignee_errors(self, field: str, user_ids: Sequence[UUID]) -> list[FieldError]:
        for user_id in user_ids:
            user = self._find(User, user_id)
            if user is None or not user.can_be_assigned:
                return [
                    FieldError(field, f"{user_id} is not an active developer or admin")
                ]
        return []

    def ticket(self, actor: Actor, ticket_id: UUID, version: int | None = None) -> Ticket:
        """The ticket now, or exactly as it was at `version`. Who may see it is decided by the
        ticket as it is now, whichever version is asked for."""
        current = self._load(Ticket, ticket_id, "ticket")
        require_visible(actor, current)
        if version is None or version == current.version:
            return current
        if not 1 <= version < current.version:
            raise NotFound("no such version of the ticket")
        past: Aggregate = self.repository.get(ticket_id, version=version)
        assert isinstance(past, Ticket)
        return past

    def _ticket_change(
        self,
        actor: Actor,
        ticket_id: UUID,
        expected_version: int | None,
        change: Callable[[Ticket, Stamp], None],
    ) -> Outcome:
        def attempt() -> Outcome:
            ticket = self.ticket(actor, ticket_id)
            if expected_version is not None and ticket.version != expected_version:
                raise VersionMismatch(expected_version, ticket.version)
            change(ticket, self._stamp(actor.id))
            if ticket.pending_events:
                self.project(ticket.project_id).accept_tickets()
            return self._save(ticket)

        try:
            return self._retrying(attempt)
        except Conflict:
            if expected_version is not None:
                actual = self.ticket(actor, ticket_id).version
                raise VersionMismatch(expected_version, actual) from None
            raise

    def edit_ticket(self, actor: Actor, command: EditTicket) -> Outcome:
        def change(ticket: Ticket, stamp: Stamp) -> None:
            # Checked once the ticket is visible: a hidden ticket answers "not found" first.
            if command.status is not UNSET:
                require_ticket_worker(actor, "status")
            if command.priority is not UNSET:
                require_ticket_worker(actor, "priority")
            ticket.edit(stamp, **_edits(command))

        return self._ticket_change(actor, command.ticket_id, command.expected_version, change)

    def assign_ticket(self, actor: Actor, command: AssignTicket) -> Outcome:
        def change(ticket: Ticket, stamp: Stamp) -> None:
            require_ticket_worker(actor, "assignees")
            require(self._assignee_errors("user_ids", command.user_ids))
            ticket.assign(stamp, command.user_ids)

        return self._ticket_change(actor, command.ticket_id, command.expected_version, change)

    def comment(self, actor: Actor, command: CommentOnTicket) -> Outcome:
        comment_id = self.new_id()

        def change(ticket: Ticket, stamp: Stamp) -> None:
            ticket.comment(stamp, comment_id, command.body)

        outcome = self._ticket_change(actor, command.ticket_id, command.expected_version, change)
        return Outcome(
            id=comment_id, version=outcome.version, position=outcome.position,
            recorded=outcome.recorded,
        )

    def edit_comment(self, actor: Actor, command: EditComment) -> Outcome:
        def change(ticket: Ticket, stamp: Stamp) -> None:
            ticket.edit_comment(stamp, command.comment_id, command.body)

        return self._ticket_change(actor, command.ticket_id, command.expected_version, change)

    def handle(self, actor: Actor, command: Command) -> Outcome:
        """Dispatch any command that needs an authenticated actor."""
        match command:
            case ChangeUser():
                return self.change_user(actor, command)
            case CreateProject():
                return self.create_project(actor, command)
            case ReviseProject():
                return self.revise_project(actor, command)
            case ArchiveProject():
                return self.archive_project(actor, command)
            case CreateTicket():
                return self.create_ticket(actor, command)
            case EditTicket():
                return self.edit_ticket(actor, command)
            case AssignTicket():
                return self.assign_ticket(actor, command)
            case CommentOnTicket():
                return self.comment(actor, command)
            case EditComment():
                return self.edit_comment(actor, command)
        raise TypeError(f"unknown command {type(command).__name__}")


def _fields(command: CreateTicket) -> dict[str, Any]:
    return {
        "title": command.title,
        "description": command.description,
        "priority": command.priority,
        "type": command.type,
        "tags": command.tags,
        "due_date": command.due_date,
        "assignee_ids": command.assignee_ids,
    }


def _edits(command: EditTicket) -> dict[str, Any]:
    edits: dict[str, Any] = {}
    for field in ("title", "status", "priority", "type", "tags"):
        value = getattr(command, field)
        if value is not UNSET:
            edits[field] = value
    if command.description is not UNSET:
        edits["description"] = command.description
        edits["clear_description"] = command.description is None
    if command.due_date is not UNSET:
        edits["due_date"] = command.due_date
        edits["clear_due_date"] = command.due_date is None
    return edits


__all__ = ["SYSTEM_ACTOR", "InvalidFields", "Trail"]
