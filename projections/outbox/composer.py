"""A ticket command's events -> the emails it sends: who gets one, and what it says changed.

One command is one email per recipient, however many events it recorded: the changes are merged
field by field (the first `from`, the last `to`) and shown as words (names for assignees).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from domain.ticket import Ticket
from domain.ticket_events import Changes
from domain.values import format_size
from projections.outbox.payloads import (
    EmailPayload,
    FieldChange,
    Person,
    TicketEmail,
    ticket_subject,
)

# uuid5 namespace for outbox row ids: the same (command, recipient) always gets the same id.
_ROW_NAMESPACE = UUID("0b6f8a4e-6c1e-4f0e-9d6a-3c1f5e1b2a77")
# Fields of a creation that say nothing to a reader (ids, numbering) or are empty by default.
_CREATION_HIDDEN = frozenset({"project_id", "number", "reporter_id"})

# A command's events with their positions, in order.
Command = Sequence[tuple[Ticket.Event, int]]


class TicketState(msgspec.Struct):
    """The little of a ticket its emails need."""

    project_id: UUID
    number: int
    title: str
    assignee_ids: tuple[UUID, ...]


class NewEmail(msgspec.Struct, frozen=True, kw_only=True):
    """An outbox row to write."""

    command_id: UUID
    recipient: Person
    kind: str
    ticket_id: UUID | None
    position: int | None
    subject: str
    payload: EmailPayload

    @property
    def id(self) -> UUID:
        return uuid.uuid5(_ROW_NAMESPACE, f"{self.command_id}:{self.recipient.id}")


def evolve(state: TicketState | None, event: Ticket.Event) -> TicketState | None:
    """The fields emails need, after `event`; None for a ticket not created yet."""
    match event:
        case Ticket.Created():
            return TicketState(event.project_id, event.number, event.title, event.assignee_ids)
        case Ticket.TitleChanged() if state is not None:
            return msgspec.structs.replace(state, title=event.title)
        case Ticket.AssigneesChanged() if state is not None:
            return msgspec.structs.replace(state, assignee_ids=event.assignee_ids)
    return state


def after(state: TicketState | None, command: Command) -> TicketState | None:
    for event, _ in command:
        state = evolve(state, event)
    return state


def removed_by(command: Command, state: TicketState) -> list[UUID]:
    """Users the command took off the ticket (and did not put back)."""
    removed: dict[UUID, None] = {}
    for event, _ in command:
        if isinstance(event, Ticket.AssigneesChanged):
            removed.update((u, None) for u in event.removed if u not in state.assignee_ids)
    return list(removed)


def ticket_emails(
    command: Command,
    state: TicketState,
    key: str,
    people: Mapping[UUID, tuple[Person, bool]],
    labels: Mapping[UUID, str] | None = None,
) -> list[NewEmail]:
    """The emails of one ticket command; `state` is the ticket after it, `people` the users it
    involves as the log has them so far (with whether each is active), `labels` the other
    tickets (keys) and teams (names) its changes mention (`labels.labels`)."""
    first, position = command[0][0], command[-1][1]
    names = {**(labels or {}), **{user_id: person.name for user_id, (person, _) in people.items()}}
    changes = merged_changes(command, names)
    if not changes:
        return []
    removed = removed_by(command, state)
    actor = people.get(first.actor_id)
    assignees = [people[u][0] for u in state.assignee_ids if u in people]
    recipients = [(u, False) for u in state.assignee_ids] + [(u, True) for u in removed]
    emails = []
    for user_id, was_removed in recipients:
        if user_id not in people or not people[user_id][1]:
            # Unknown, or deactivated: an account that has left gets no more mail.
            continue
        recipient = people[user_id][0]
        emails.append(NewEmail(
            command_id=first.command_id,
            recipient=recipient,
            kind="ticket",
            ticket_id=first.originator_id,
            position=position,
            subject=ticket_subject(key, state.title),
            payload=TicketEmail(
                ticket_id=first.originator_id,
                ticket_key=key,
                title=state.title,
                created=isinstance(first, Ticket.Created),
                actor_name=actor[0].name if actor else "someone",
                at=first.timestamp,
                changes=changes,
                assignees=assignees,
                recipient=recipient,
                removed=was_removed,
            ),
        ))
    return emails


def merged_changes(command: Command, names: Mapping[UUID, str]) -> list[FieldChange]:
    """Field by field over the whole command: the first `from`, the last `to`."""
    merged: dict[str, tuple[Any, Any]] = {}
    for event, _ in command:
        for field, (old, new) in _emailed_changes(event).items():
            merged[field] = (merged[field][0] if field in merged else old, new)
    created = isinstance(command[0][0], Ticket.Created)
    changes = []
    for field, (old, new) in merged.items():
        shown_old, shown_new = _shown(field, old, names), _shown(field, new, names)
        if created and (field in _CREATION_HIDDEN or shown_new is None):
            continue
        if shown_old != shown_new:
            changes.append(FieldChange(field=field, old=shown_old, new=shown_new))
    return changes


def _emailed_changes(event: Ticket.Event) -> Changes:
    """What the email says an event changed: a file by its name and size, not a list of ids."""
    match event:
        case Ticket.AttachmentAdded(filename=name, size=size):
            return {"attachment_added": (None, f"{name} ({format_size(size)})")}
        case Ticket.AttachmentRemoved(filename=name, size=size):
            return {"attachment_removed": (None, f"{name} ({format_size(size)})")}
    return event.changes()


def _shown(field: str, value: Any, names: Mapping[UUID, str]) -> str | None:
    """A value as the email prints it; None for empty, so `from → to` reads naturally. `names`
    shows ids: people by name, tickets by key, teams by name."""
    if value is None:
        return None
    if field == "assignee_ids":
        return ", ".join(names.get(u, str(u)) for u in value) or None
    if field in ("parent_id", "team_id"):
        return names.get(value, str(value))
    if field == "links":
        shown = (f"{link.type.replace('_', ' ')} {names.get(link.ticket_id, link.ticket_id)}"
                 for link in value)
        return ", ".join(shown) or None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
