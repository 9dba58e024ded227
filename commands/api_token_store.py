"""API tokens as credentials: what a presented token is checked against.

A token is `trail_pat_` and 43 random URL-safe characters (256 bits), so a leaked one is easy to
recognise (secret scanners, logs) and impossible to guess. Only its SHA-256 digest is stored: a
fast hash is right for a secret this long, where a slow one protects short passwords.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

PREFIX = "trail_pat_"
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def is_api_token(token: str) -> bool:
    return token.startswith(PREFIX)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenStore:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore

    def add(self, token_id: UUID, user_id: UUID, token: str, expires_at: datetime | None) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO api_tokens (id, user_id, digest, expires_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (token_id, user_id, digest(token), expires_at),
            )

    def revoke(self, token_id: UUID, user_id: UUID, at: datetime) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, %s) "
                "WHERE id = %s AND user_id = %s",
                (at, token_id, user_id),
            )

    def holder(self, token: str, at: datetime) -> UUID | None:
        """The user a live token belongs to (None: unknown, revoked or expired); notes its use."""
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT id, user_id, expires_at, revoked_at, last_used_at FROM api_tokens "
                "WHERE digest = %s",
                (digest(token),),
            )
            row = curs.fetchone()
            if row is None or row["revoked_at"] is not None:
                return None
            if row["expires_at"] is not None and row["expires_at"] <= at:
                return None
            last = row["last_used_at"]
            if last is None or at - last >= LAST_USED_GRANULARITY:
                curs.execute(
                    "UPDATE api_tokens SET last_used_at = %s WHERE id = %s", (at, row["id"])
                )
        user_id: UUID = row["user_id"]
        return user_id

    def last_used(self, user_id: UUID) -> dict[UUID, datetime | None]:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT id, last_used_at FROM api_tokens WHERE user_id = %s", (user_id,)
            )
            return {row["id"]: row["last_used_at"] for row in curs.fetchall()}
