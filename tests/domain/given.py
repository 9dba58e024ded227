"""Given events / when a command / then events or an error: the vocabulary of the domain tests.

    ticket = given(a_ticket().add(Ticket.StatusChanged, old_status=OPEN, status=IN_PROGRESS))
    when(ticket, edit(ticket), status=Status.RESOLVED).then(
        (Ticket.StatusChanged, {"old_status": Status.IN_PROGRESS, "status": Status.RESOLVED})
    )
    when(ticket, edit(ticket), status=Status.OPEN).then_error(TransitionNotAllowed)

`given` folds events into an aggregate with `event.mutate`, exactly as the repository does.
`when` calls a command method with a fixed `Stamp` (the domain never reads the clock) and collects
what it recorded. `then…` compares the recorded events (type and key fields), checks that every one
carries the command's stamp and the next versions, and that replaying the given and the recorded
events from scratch gives the very aggregate the command left behind. A refused command must
record nothing and leave the aggregate exactly as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.errors import DomainError, InvalidFields
from domain.project import Project
from domain.team import Team
from domain.ticket import Ticket
from domain.ticket_edit import TicketEdit
from domain.user import User
from domain.values import Priority, Role, Stamp, TicketType, UserStatus

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)

ALICE = UUID("00000000-0000-4000-8000-00000000a11c")  # a developer
BOB = UUID("00000000-0000-4000-8000-000000000b0b")  # another developer
CAROL = UUID("00000000-0000-4000-8000-0000000ca201")  # a reporter
DAVE = UUID("00000000-0000-4000-8000-00000000da7e")

TICKET_ID = UUID("00000000-0000-4000-8000-00000000711c")
PROJECT_ID = UUID("00000000-0000-4000-8000-000000009201")
USER_ID = UUID("00000000-0000-4000-8000-000000005e12")
COMMENT_ID = UUID("00000000-0000-4000-8000-00000000c0c0")
OTHER_TICKET_ID = UUID("00000000-0000-4000-8000-00000000712c")
LINK_ID = UUID("00000000-0000-4000-8000-0000000011c0")
TEAM_ID = UUID("00000000-0000-4000-8000-000000007ea0")

GIVEN_COMMAND = UUID("00000000-0000-4000-8000-000000000001")
WHEN_COMMAND = UUID("00000000-0000-4000-8000-000000000002")


def stamp(
    actor_id: UUID = ALICE, *, at: datetime = LATER, command_id: UUID = WHEN_COMMAND
) -> Stamp:
    return Stamp(actor_id=actor_id, command_id=command_id, at=at)


STAMP = stamp()


class Stream:
    """The given events of one aggregate, numbered 1, 2, 3… as the event store would hold them."""

    def __init__(self, aggregate_class: type[Aggregate], aggregate_id: UUID) -> None:
        self.aggregate_class = aggregate_class
        self.aggregate_id = aggregate_id
        self.events: list[Aggregate.Event] = []

    def add(
        self,
        event_class: type[Aggregate.Event],
        *,
        actor_id: UUID = ALICE,
        at: datetime = AT,
        **fields: Any,
    ) -> Stream:
        values: dict[str, Any] = {
            "originator_id": self.aggregate_id,
            "originator_version": len(self.events) + 1,
            "timestamp": at,
            "actor_id": actor_id,
            "command_id": GIVEN_COMMAND,
            **fields,
        }
        if issubclass(event_class, Aggregate.Created):
            values["originator_topic"] = get_topic(self.aggregate_class)
        self.events.append(event_class(**values))
        return self

    def __iter__(self) -> Any:
        return iter(self.events)


def a_ticket(*, actor_id: UUID = ALICE, ticket_id: UUID = TICKET_ID, **overrides: Any) -> Stream:
    fields: dict[str, Any] = {
        "project_id": PROJECT_ID,
        "number": 1,
        "title": "Fix the database",
        "description": None,
        "priority": Priority.MEDIUM,
        "type": TicketType.BUG,
        "tags": (),
        "due_date": None,
        "reporter_id": actor_id,
        "assignee_ids": (),
    }
    fields.update(overrides)
    return Stream(Ticket, ticket_id).add(Ticket.Created, actor_id=actor_id, **fields)


def a_project(**overrides: Any) -> Stream:
    fields: dict[str, Any] = {"name": "Payments", "key": "PAY", "description": None}
    fields.update(overrides)
    return Stream(Project, PROJECT_ID).add(Project.Created, **fields)


def a_team(**overrides: Any) -> Stream:
    fields: dict[str, Any] = {"name": "Platform", "lead_id": None, "member_ids": ()}
    fields.update(overrides)
    return Stream(Team, TEAM_ID).add(Team.Formed, **fields)


def a_user(**overrides: Any) -> Stream:
    fields: dict[str, Any] = {
        "name": "Max Mustermann",
        "email": "max@example.com",
        "role": Role.DEVELOPER,
        "status": UserStatus.ACTIVE,
    }
    fields.update(overrides)
    return Stream(User, USER_ID).add(User.Registered, actor_id=USER_ID, **fields)


# The events each aggregate was folded from, so `then` can replay them with what was recorded.
_history: dict[int, tuple[Aggregate, list[Aggregate.Event]]] = {}


def given(events: Iterable[Aggregate.Event]) -> Any:
    """Fold events into a fresh aggregate, as loading it from the event store does."""
    events = list(events)
    aggregate = replay(events)
    assert aggregate is not None, "given needs at least the created event"
    assert aggregate.pending_events == [], "folding events must not record new ones"
    _history[id(aggregate)] = (aggregate, events)
    return aggregate


def replay(events: Iterable[Aggregate.Event]) -> Any:
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def state(aggregate: Aggregate | None) -> dict[str, Any] | None:
    """Everything an aggregate holds except its pending events."""
    if aggregate is None:
        return None
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


Expected = type[Aggregate.Event] | tuple[type[Aggregate.Event], Mapping[str, Any]]


@dataclass
class Result:
    subject: Any
    stamp: Stamp
    before_version: int
    given_events: list[Aggregate.Event]
    events: list[Aggregate.Event] = field(default_factory=list)
    error: DomainError | None = None
    unchanged: bool = True

    def then(self, *expected: Expected) -> list[Aggregate.Event]:
        """The command recorded exactly these events, in this order (type, then key fields)."""
        assert self.error is None, f"expected events, got {self.error!r}"
        wanted = [(e, {}) if isinstance(e, type) else e for e in expected]
        got = [type(e).__name__ for e in self.events]
        assert got == [cls.__name__ for cls, _ in wanted], f"recorded {got}"
        for event, (cls, fields) in zip(self.events, wanted, strict=True):
            assert type(event) is cls
            for name, value in fields.items():
                actual = getattr(event, name)
                assert actual == value, f"{cls.__name__}.{name} is {actual!r}, not {value!r}"
        self._check_stamped()
        return self.events

    def then_nothing(self) -> None:
        """The command was accepted and changed nothing."""
        assert self.error is None, f"expected no events, got {self.error!r}"
        assert self.events == [], f"recorded {[type(e).__name__ for e in self.events]}"
        assert self.unchanged, "the aggregate changed without recording an event"

    def then_error(self, error: type[DomainError], *, fields: Sequence[str] | None = None,
                   match: str | None = None) -> DomainError:
        """The command was refused with `error`, recorded nothing and left the state as it was."""
        assert self.error is not None, (
            f"expected {error.__name__}, recorded {[type(e).__name__ for e in self.events]}"
        )
        assert isinstance(self.error, error), f"expected {error.__name__}, got {self.error!r}"
        if fields is not None:
            assert isinstance(self.error, InvalidFields)
            assert sorted(e.field for e in self.error.errors) == sorted(fields), self.error
        if match is not None:
            assert match in str(self.error), str(self.error)
        assert self.events == [], "a refused command recorded events"
        assert self.unchanged, "a refused command changed the aggregate"
        return self.error

    def _check_stamped(self) -> None:
        for offset, event in enumerate(self.events, start=1):
            assert event.originator_id == self.subject.id
            assert event.originator_version == self.before_version + offset
            assert event.timestamp == self.stamp.at, "the domain must use the stamp's time"
            assert event.actor_id == self.stamp.actor_id  # type: ignore[attr-defined]
            assert event.command_id == self.stamp.command_id  # type: ignore[attr-defined]
        assert self.subject.version == self.before_version + len(self.events)
        replayed = replay([*self.given_events, *self.events])
        assert state(replayed) == state(self.subject), "replaying the events gives another state"


def edit(ticket: Ticket) -> Callable[..., None]:
    """`ticket.edit`, taking the fields of its `TicketEdit` as keywords (`None` clears)."""

    def command(stamp: Stamp, **fields: Any) -> None:
        ticket.edit(stamp, TicketEdit(**fields))

    return command


def when(aggregate: Aggregate | None, command: Callable[..., Any], /, *args: Any,
         stamp: Stamp = STAMP, **kwargs: Any) -> Result:
    """Run `command(stamp, *args, **kwargs)`: a method of `aggregate`, or a creating classmethod
    (then `aggregate` is None and the created aggregate is the subject)."""
    given_events = _history[id(aggregate)][1] if aggregate is not None else []
    before = copy.deepcopy(state(aggregate))
    before_version = aggregate.version if aggregate is not None else 0
    try:
        created = command(stamp, *args, **kwargs)
    except DomainError as error:
        pending = list(aggregate.collect_events()) if aggregate is not None else []
        return Result(aggregate, stamp, before_version, given_events, pending, error,
                      unchanged=state(aggregate) == before)
    subject = created if isinstance(created, Aggregate) else aggregate
    events = list(subject.collect_events())
    if subject is not aggregate:
        before = None
    _history[id(subject)] = (subject, [*given_events, *events])
    return Result(subject, stamp, before_version, given_events, events,
                  unchanged=state(subject) == before)
