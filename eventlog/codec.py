"""Stores events as plain JSON (so analysts can read them with SQL) and decodes them with msgspec.

The stock JSON transcoder wraps UUIDs and dates in `{"_type_": ..., "_data_": ...}` envelopes;
this mapper writes the bare values and lets each event class's annotations restore the types.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

# Registers every stored topic, so any event in the log decodes in any process.
import eventlog.topics  # noqa: F401

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(dict[str, Any])
# Subscripted once: `cast(DomainEventProtocol[UUID], ...)` built the alias again for every
# event decoded (typing's cache lookup was a quarter of the decode).
_Event = DomainEventProtocol[UUID]


class UnusedTranscoder(Transcoder):
    """The base Mapper wants a transcoder; this mapper encodes on its own."""

    def encode(self, obj: Any) -> bytes:
        return _encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return _decoder.decode(data)


class JsonEventMapper(Mapper[UUID]):
    def __init__(self) -> None:
        super().__init__(transcoder=UnusedTranscoder())

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=_encoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        state = _decoder.decode(stored_event.state)
        from_version = state.pop("class_version", 1)
        while from_version < getattr(cls, "class_version", 1):
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return cast(_Event, msgspec.convert(state, type=cls))
