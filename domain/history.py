"""What an event changed, as auditors read it: `{field: {from, to}}` in the API's field names.

Pure: derived from the event alone (change events carry the value they replaced), so the log,
the history endpoint and any replay always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.ticket import Ticket

# Every stored topic starts with this; the public name of an event type leaves it out.
TOPIC_PREFIX = "trail."


def event_type(topic: str) -> str:
    """The public name of an event (`Ticket.StatusChanged`): its stable topic without the
    product prefix."""
    return topic.removeprefix(TOPIC_PREFIX)


def event_topic(type_name: str) -> str:
    return TOPIC_PREFIX + type_name


class Change(msgspec.Struct, frozen=True):
    from_: Any = msgspec.field(name="from")
    to: Any = None


class HistoryEntry(msgspec.Struct, frozen=True):
    position: int
    version: int
    type: str
    at: datetime
    actor_id: UUID
    changes: dict[str, Change]


def history_entry(position: int, event: Ticket.Event) -> HistoryEntry:
    return HistoryEntry(
        position=position,
        version=event.originator_version,
        type=event_type(type(event).TOPIC),
        at=event.timestamp,
        actor_id=event.actor_id,
        changes=changes_of(event),
    )


def changes_of(event: Ticket.Event) -> dict[str, Change]:
    return {
        field: Change(msgspec.to_builtins(old), msgspec.to_builtins(new))
        for field, (old, new) in event.changes().items()
    }
