"""A user's API tokens: issued and revoked as facts, never with their secret.

One `ApiTokens` aggregate per user (its id follows from the user's), so the cap on how many
tokens a user holds is decided atomically on the write side: two concurrent issues collide on
the aggregate's version and the second decides again on what the first did. The secret and its
digest are credentials (`commands.api_token_store`), not events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate

from domain.errors import DomainError, FieldError, require
from domain.stamped import StampedAggregate
from domain.values import Stamp, is_one_line, is_visible

TOKEN_NAME_MAX = 100
EXPIRY_DAYS_MIN, EXPIRY_DAYS_MAX = 1, 365
# Live (neither revoked nor expired) tokens one user may hold: each is a way into the account.
TOKENS_PER_USER = 50

_NAMESPACE = uuid5(NAMESPACE_URL, "https://trail.dev/api-tokens")


def keyring_id(user_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, str(user_id))


class TooManyTokens(DomainError):
    """The user holds as many live tokens as it may; one must be revoked first."""


class UnknownToken(DomainError):
    """No live token of this user has that id."""


class TokenRecord(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    created_at: datetime
    expires_at: datetime | None

    def live_at(self, moment: datetime) -> bool:
        return self.expires_at is None or self.expires_at > moment


def clean_token_name(errors: list[FieldError], value: str) -> str:
    name = value.strip()
    if not name:
        errors.append(FieldError("name", "must not be blank"))
    elif len(name) > TOKEN_NAME_MAX:
        errors.append(FieldError("name", f"must be at most {TOKEN_NAME_MAX} characters"))
    elif not is_one_line(name):
        errors.append(FieldError("name", "must be one line without control characters"))
    elif not is_visible(name):
        errors.append(FieldError("name", "must not be blank"))
    return name


def expiry(errors: list[FieldError], at: datetime, days: int | None) -> datetime | None:
    if days is None:
        return None
    if not EXPIRY_DAYS_MIN <= days <= EXPIRY_DAYS_MAX:
        errors.append(FieldError(
            "expires_in_days", f"must be between {EXPIRY_DAYS_MIN} and {EXPIRY_DAYS_MAX}"
        ))
        return None
    return at + timedelta(days=days)


class ApiTokens(StampedAggregate):
    TOPIC = "trail.ApiTokens"

    class Event(Aggregate.Event):
        TOPIC = "trail.ApiTokens.Event"
        actor_id: UUID
        command_id: UUID

    class Opened(Event, Aggregate.Created):
        """The user's keyring, recorded with its first token."""

        TOPIC = "trail.ApiTokens.Opened"
        user_id: UUID

    class Issued(Event):
        TOPIC = "trail.ApiTokens.Issued"
        token_id: UUID
        name: str
        expires_at: datetime | None

        def apply(self, keyring: ApiTokens) -> None:
            keyring.tokens[self.token_id] = TokenRecord(
                self.token_id, self.name, self.timestamp, self.expires_at
            )

    class Revoked(Event):
        TOPIC = "trail.ApiTokens.Revoked"
        token_id: UUID

        def apply(self, keyring: ApiTokens) -> None:
            keyring.tokens.pop(self.token_id, None)

    def __init__(self, *, actor_id: UUID, command_id: UUID, user_id: UUID) -> None:
        self.user_id = user_id
        # Tokens not revoked, oldest first (expired ones included: they are still listed).
        self.tokens: dict[UUID, TokenRecord] = {}

    @classmethod
    def open(cls, stamp: Stamp, user_id: UUID) -> ApiTokens:
        return cls._begin(cls.Opened, stamp, keyring_id(user_id), user_id=user_id)

    def issue(
        self, stamp: Stamp, *, token_id: UUID, name: str, expires_in_days: int | None
    ) -> TokenRecord:
        errors: list[FieldError] = []
        clean = clean_token_name(errors, name)
        expires_at = expiry(errors, stamp.at, expires_in_days)
        require(errors)
        live = sum(1 for token in self.tokens.values() if token.live_at(stamp.at))
        if live >= TOKENS_PER_USER:
            raise TooManyTokens(
                f"a user holds at most {TOKENS_PER_USER} live tokens; revoke one first"
            )
        self._record(stamp, self.Issued, token_id=token_id, name=clean, expires_at=expires_at)
        return self.tokens[token_id]

    def revoke(self, stamp: Stamp, token_id: UUID) -> None:
        if token_id not in self.tokens:
            raise UnknownToken("no such token")
        self._record(stamp, self.Revoked, token_id=token_id)
