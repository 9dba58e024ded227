"""Every stored topic, registered: defining an aggregate registers its events' topics, so with
all of them imported here a process that imports nothing else still decodes every event."""

from __future__ import annotations

from typing import Any

from domain.claim import Claim
from domain.conversation import Message
from domain.history import TOPIC_PREFIX, event_topic, event_type
from domain.project import Project
from domain.reading import ReadMark
from domain.team import Team
from domain.ticket import Ticket
from domain.user import User
from domain.watching import Watch

AGGREGATES = (Claim, Message, Project, ReadMark, Team, Ticket, User, Watch)

__all__ = ["AGGREGATES", "TOPIC_PREFIX", "event_topic", "event_type", "topics_of"]


def topics_of(*event_classes: type[Any]) -> tuple[str, ...]:
    return tuple(cls.TOPIC for cls in event_classes)
