"""Unique names, decided on the write side.

A claim is an aggregate whose id is a uuid5 of the normalised key ("email:max@example.com").
Saving the claim in the same atomic save as the thing that takes the name means two concurrent
takers collide on the claim's version in the event store: exactly one wins.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import NameTaken
from domain.stamped import StampedAggregate
from domain.values import Stamp

CLAIM_NAMESPACE = uuid5(NAMESPACE_URL, "https://trail.dev/claims")


def claim_id(kind: str, key: str) -> UUID:
    return uuid5(CLAIM_NAMESPACE, f"{kind}:{key}")


class Claim(StampedAggregate):
    TOPIC = "trail.Claim"

    class Event(Aggregate.Event):
        TOPIC = "trail.Claim.Event"
        actor_id: UUID
        command_id: UUID

    class Taken(Event, Aggregate.Created):
        TOPIC = "trail.Claim.Taken"
        kind: str
        key: str
        owner_id: UUID

    class Retaken(Event):
        TOPIC = "trail.Claim.Retaken"
        owner_id: UUID

        def apply(self, claim: Claim) -> None:
            claim.owner_id = self.owner_id

    class Released(Event):
        TOPIC = "trail.Claim.Released"

        def apply(self, claim: Claim) -> None:
            claim.owner_id = None

    def __init__(
        self, *, actor_id: UUID, command_id: UUID, kind: str, key: str, owner_id: UUID
    ) -> None:
        self.kind = kind
        self.key = key
        self.owner_id: UUID | None = owner_id

    @classmethod
    def take_new(cls, stamp: Stamp, *, kind: str, key: str, owner_id: UUID) -> Claim:
        return cls._begin(
            cls.Taken,
            stamp,
            claim_id(kind, key),
            kind=kind,
            key=key,
            owner_id=owner_id,
        )

    def take(self, stamp: Stamp, owner_id: UUID) -> None:
        if self.owner_id == owner_id:
            return
        if self.owner_id is not None:
            raise NameTaken(f"{self.kind} {self.key!r} is taken")
        self._record(stamp, self.Retaken, owner_id=owner_id)

    def release(self, stamp: Stamp) -> None:
        if self.owner_id is not None:
            self._record(stamp, self.Released)
