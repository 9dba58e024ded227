"""The Webhook aggregate: where to POST which events of the log. Its secret is a credential kept
in a table (`commands.webhook_secrets`), never in an event.

Whether a URL's host resolves to an address Trail may call is a question about the network, not
a domain rule: the write side asks `outbound` before it decides.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import FieldError, TransitionNotAllowed, require
from domain.stamped import StampedAggregate
from domain.values import Stamp, is_one_line

URL_MAX = 2000
EVENT_TYPES_MAX = 100
ALL_TYPES = "*"


def clean_url(errors: list[FieldError], value: str) -> str:
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        errors.append(FieldError("url", "is not a URL"))
        return url
    if len(url) > URL_MAX:
        errors.append(FieldError("url", f"must be at most {URL_MAX} characters"))
    elif parts.scheme not in ("http", "https") or not host:
        errors.append(FieldError("url", "must be an http:// or https:// URL with a host"))
    elif parts.username is not None or parts.password is not None:
        # The URL is recorded in the log: credentials in it would be a secret in an event.
        errors.append(FieldError("url", "must not carry credentials; deliveries are signed"))
    elif not is_one_line(url) or any(c.isspace() for c in url):
        errors.append(FieldError("url", "must not contain spaces or control characters"))
    return url


def clean_event_types(
    errors: list[FieldError], values: list[str] | tuple[str, ...], known: frozenset[str]
) -> tuple[str, ...]:
    """`["*"]` alone, or names of `/events` types, each once, in the order given."""
    types = tuple(dict.fromkeys(v.strip() for v in values))
    if not types:
        errors.append(FieldError("event_types", 'must name at least one type, or be ["*"]'))
    elif ALL_TYPES in types and len(types) > 1:
        errors.append(FieldError("event_types", '"*" already means every type: send it alone'))
    elif len(types) > EVENT_TYPES_MAX:
        errors.append(FieldError("event_types", f"at most {EVENT_TYPES_MAX} types"))
    elif types != (ALL_TYPES,):
        unknown = [t for t in types if t not in known]
        if unknown:
            errors.append(FieldError("event_types", f"unknown event type {unknown[0]!r}"))
    return types


class Webhook(StampedAggregate):
    TOPIC = "trail.Webhook"

    class Event(Aggregate.Event):
        TOPIC = "trail.Webhook.Event"
        actor_id: UUID
        command_id: UUID

    class Created(Event, Aggregate.Created):
        TOPIC = "trail.Webhook.Created"
        url: str
        event_types: tuple[str, ...]
        project_id: UUID | None

    class UrlChanged(Event):
        TOPIC = "trail.Webhook.UrlChanged"
        old_url: str
        url: str

        def apply(self, webhook: Webhook) -> None:
            webhook.url = self.url

    class EventTypesChanged(Event):
        TOPIC = "trail.Webhook.EventTypesChanged"
        old_event_types: tuple[str, ...]
        event_types: tuple[str, ...]

        def apply(self, webhook: Webhook) -> None:
            webhook.event_types = self.event_types

    class Paused(Event):
        TOPIC = "trail.Webhook.Paused"

        def apply(self, webhook: Webhook) -> None:
            webhook.active = False

    class Resumed(Event):
        TOPIC = "trail.Webhook.Resumed"

        def apply(self, webhook: Webhook) -> None:
            webhook.active = True

    class ReplayRequested(Event):
        """Deliver again every matching event after `after_position`, up to this event."""

        TOPIC = "trail.Webhook.ReplayRequested"
        after_position: int

    class Deleted(Event):
        TOPIC = "trail.Webhook.Deleted"

        def apply(self, webhook: Webhook) -> None:
            webhook.deleted = True

    def __init__(
        self,
        *,
        actor_id: UUID,
        command_id: UUID,
        url: str,
        event_types: tuple[str, ...],
        project_id: UUID | None,
    ) -> None:
        self.url = url
        self.event_types = event_types
        self.project_id = project_id
        self.active = True
        self.deleted = False

    @classmethod
    def create(
        cls,
        stamp: Stamp,
        *,
        webhook_id: UUID,
        url: str,
        event_types: list[str],
        project_id: UUID | None,
        known_types: frozenset[str],
    ) -> Webhook:
        errors: list[FieldError] = []
        clean = clean_url(errors, url)
        types = clean_event_types(errors, event_types, known_types)
        require(errors)
        return cls._begin(
            cls.Created, stamp, webhook_id, url=clean, event_types=types, project_id=project_id
        )

    def change(
        self,
        stamp: Stamp,
        *,
        url: str | None,
        event_types: list[str] | None,
        active: bool | None,
        known_types: frozenset[str],
    ) -> None:
        """Only what is given changes; nothing is recorded for a value it already has."""
        self._require_live()
        errors: list[FieldError] = []
        clean = clean_url(errors, url) if url is not None else self.url
        types = (
            clean_event_types(errors, event_types, known_types)
            if event_types is not None
            else self.event_types
        )
        require(errors)
        if clean != self.url:
            self._record(stamp, self.UrlChanged, old_url=self.url, url=clean)
        if types != self.event_types:
            self._record(
                stamp, self.EventTypesChanged, old_event_types=self.event_types, event_types=types
            )
        if active is not None and active != self.active:
            self._record(stamp, self.Resumed if active else self.Paused)

    def replay(self, stamp: Stamp, after_position: int) -> None:
        self._require_live()
        if after_position < 0:
            require([FieldError("after_position", "must be 0 or more")])
        self._record(stamp, self.ReplayRequested, after_position=after_position)

    def delete(self, stamp: Stamp) -> None:
        self._require_live()
        self._record(stamp, self.Deleted)

    def _require_live(self) -> None:
        if self.deleted:
            raise TransitionNotAllowed("this webhook was deleted")
