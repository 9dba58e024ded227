"""What every application service stands on: the event store, and load → decide → save with a
retry when a concurrent writer got there first.

`Trail` is the eventsourcing application (named `trail`, so its table is `trail_events`) and
nothing more: it owns the repository and the recorder. `Service` is the base of the services
of each aggregate family (`accounts`, `projects`, `tickets`): it stamps commands with who, which
command and when, loads aggregates, saves several in one atomic write, and claims unique names.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from commands.errors import Conflict, NotFound
from domain.claim import Claim, claim_id
from domain.errors import NameTaken
from domain.values import Stamp
from eventlog.codec import JsonEventMapper
from eventlog.reading import events_of_each, fold, stored_commands

A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 30

# The command ids a caller's writes recorded, for whoever set a list here (the API logs them
# with each request). A list, not a value: a command may run in another thread of the request.
recorded_commands: ContextVar[list[UUID] | None] = ContextVar("recorded_commands", default=None)


class Trail(Application[UUID]):
    """The event store. Creating its tables is `create_schema`'s job, not the constructor's."""

    name = "trail"
    env: ClassVar[dict[str, str]] = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "ORIGINATOR_ID_TYPE": "uuid",
        "SINGLE_ROW_TRACKING": "y",
        "CREATE_TABLE": "n",
    }

    def construct_mapper(self) -> Mapper[UUID]:
        return JsonEventMapper()

    @property
    def datastore(self) -> PostgresDatastore:
        datastore: PostgresDatastore = self.recorder.datastore  # type: ignore[attr-defined]
        return datastore

    def create_schema(self) -> None:
        """The events table and its index, as the library defines them (idempotent)."""
        recorder = self.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        recorder.create_table()

    def current_position(self) -> int:
        return self.recorder.max_notification_id() or 0


@dataclass(frozen=True)
class Outcome(Generic[A]):
    """What a command did: the id it acted on or created, the aggregate as it saved it, and the
    global position of the last event it recorded (the `Trail-Position` header)."""

    id: UUID
    aggregate: A
    position: int
    recorded: int

    @property
    def version(self) -> int:
        return self.aggregate.version


class Contended(Exception):
    """A decision went stale before it was saved; decide again as after a version conflict."""


class Service:
    def __init__(
        self, store: Trail, *, clock: Callable[[], datetime], new_id: Callable[[], UUID]
    ) -> None:
        self.store = store
        self.clock = clock
        self.new_id = new_id

    def _stamp(self, actor_id: UUID) -> Stamp:
        return Stamp(actor_id=actor_id, command_id=self.new_id(), at=self.clock())

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.store.repository.get(aggregate_id, projector_func=fold)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _find_each(self, cls: type[A], aggregate_ids: Sequence[UUID]) -> dict[UUID, A]:
        """The aggregates of `aggregate_ids` that exist and are `cls`, read in one query: for
        checks about several at once, not for changing them."""
        # One statement on the autocommit connection: no BEGIN and ROLLBACK around a read.
        with self.store.datastore.get_connection() as conn:
            events = events_of_each(conn, aggregate_ids)
        found: dict[UUID, A] = {}
        for aggregate_id, stream in events.items():
            aggregate = fold(None, stream)
            if isinstance(aggregate, cls):
                found[aggregate_id] = aggregate
        return found

    def _load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        aggregate = self._find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"no such {what}")
        return aggregate

    def _save(self, subject: A, *others: Aggregate, made: UUID | None = None) -> Outcome[A]:
        """Save `subject` and `others` in one atomic write; `made` is the id of something the
        command created inside `subject` (a comment), reported as the outcome's id."""
        aggregates: list[Aggregate] = [subject, *others]
        pending = [event for aggregate in aggregates for event in aggregate.pending_events]
        try:
            recordings = self.store.save(subject, *others)
        except IntegrityError:
            # The event store retries a write whose connection broke. When the break came after
            # the commit, the retry meets this very write: it is saved, not in conflict (deciding
            # again would post a comment twice).
            position = self._already_saved(pending)
            if position is None:
                raise
            return Outcome(
                id=made or subject.id,
                aggregate=subject,
                position=position,
                recorded=sum(1 for e in pending if e.originator_id == subject.id),
            )
        commands = recorded_commands.get()
        if commands is not None and recordings:
            commands.append(recordings[0].domain_event.command_id)  # type: ignore[attr-defined]
        recorded = sum(1 for r in recordings if r.domain_event.originator_id == subject.id)
        position = max((r.notification.id for r in recordings), default=None)
        return Outcome(
            id=made or subject.id,
            aggregate=subject,
            position=position if position is not None else self.store.current_position(),
            recorded=recorded,
        )

    def _already_saved(self, pending: Sequence[DomainEventProtocol[UUID]]) -> int | None:
        """The position of `pending` if every one of these events is stored, made by this same
        command; None when any is missing or another command's."""
        if not pending:
            return None
        command_id = str(getattr(pending[0], "command_id", ""))
        keys = [(event.originator_id, event.originator_version) for event in pending]
        with self.store.datastore.transaction(commit=False) as cur:
            stored = stored_commands(cur, keys)
        if len(stored) != len(keys) or any(c != command_id for c, _ in stored.values()):
            return None
        return max(position for _, position in stored.values())

    def _retrying(self, attempt: Callable[[], Outcome[A]], what: str) -> Outcome[A]:
        """Run a load-decide-save attempt again when a concurrent writer got there first."""
        for n in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except (IntegrityError, Contended):
                time.sleep(random.uniform(0, 0.002 * (n + 1)))
        raise Conflict(f"the {what} kept changing under this command; try again")

    def _claim(self, stamp: Stamp, kind: str, key: str, owner_id: UUID, *, field: str) -> Claim:
        """The claim on a unique name, taken for `owner_id`, to save with the owner."""
        claim = self._find(Claim, claim_id(kind, key))
        if claim is None:
            return Claim.take_new(stamp, kind=kind, key=key, owner_id=owner_id)
        try:
            claim.take(stamp, owner_id)
        except NameTaken:
            raise NameTaken(f"{field} is already taken") from None
        return claim

    def _claim_holder(self, kind: str, key: str) -> UUID | None:
        claim = self._find(Claim, claim_id(kind, key))
        return claim.owner_id if claim else None
