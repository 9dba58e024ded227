"""Every stored topic, registered: defining an aggregate registers its events' topics, so with
all of them imported here a process that imports nothing else still decodes every event."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain.api_tokens import ApiTokens
from domain.claim import Claim
from domain.history import TOPIC_PREFIX, event_topic, event_type
from domain.project import Project
from domain.team import Team
from domain.ticket import Ticket
from domain.user import User
from domain.webhook import Webhook

AGGREGATES = (ApiTokens, Claim, Project, Team, Ticket, User, Webhook)

__all__ = [
    "AGGREGATES",
    "EVENT_TYPES",
    "TOPIC_PREFIX",
    "WEBHOOK_TYPES",
    "event_topic",
    "event_type",
    "topics_of",
]


def topics_of(*event_classes: type[Any]) -> tuple[str, ...]:
    return tuple(cls.TOPIC for cls in event_classes)


def _event_types() -> frozenset[str]:
    """The public names (`Ticket.StatusChanged`) of every event an aggregate records: its
    event classes that name their own topic, less each aggregate's abstract `Event` base."""
    found = set()
    for aggregate in AGGREGATES:
        for value in vars(aggregate).values():
            if not (isinstance(value, type) and issubclass(value, Aggregate.Event)):
                continue
            topic = value.__dict__.get("TOPIC")
            if isinstance(topic, str) and not topic.endswith(".Event"):
                found.add(event_type(topic))
    return frozenset(found)


# What `/events` may answer as `type`, and what a webhook may subscribe to.
EVENT_TYPES: frozenset[str] = _event_types()


def is_private(type_name: str) -> bool:
    """A conversation's messages are private to its participants: they never go to a webhook,
    whose owner (an admin) may not take part."""
    aggregate, _, name = type_name.partition(".")
    return aggregate == "Conversation" or "Message" in name


# What a webhook may subscribe to, and what `["*"]` means.
WEBHOOK_TYPES: frozenset[str] = frozenset(t for t in EVENT_TYPES if not is_private(t))
