"""The base of Trail's aggregates: every event says who did it, in which command, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.values import Stamp


class StampedAggregate(Aggregate):
    @property
    def created_at(self) -> datetime:
        return self.created_on

    @property
    def updated_at(self) -> datetime | None:
        """Null until the first change after creation, as the contract says of tickets (and
        Trail says of users and projects too)."""
        return self.modified_on if self.version > 1 else None

    @classmethod
    def _begin(
        cls, event_class: type[Aggregate.Created], stamp: Stamp, aggregate_id: UUID, **values: Any
    ) -> Self:
        return cls._create(
            event_class,
            id=aggregate_id,
            timestamp=stamp.at,
            actor_id=stamp.actor_id,
            command_id=stamp.command_id,
            **values,
        )

    def _record(self, stamp: Stamp, event_class: type[Aggregate.Event], **values: Any) -> None:
        self.trigger_event(
            event_class,
            timestamp=stamp.at,
            actor_id=stamp.actor_id,
            command_id=stamp.command_id,
            **values,
        )
