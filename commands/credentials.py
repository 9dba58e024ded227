"""Secrets live in ordinary tables, never in events: argon2 password hashes and password-reset
tokens (stored as SHA-256 digests, single use, expiring)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.postgres import PostgresDatastore

from domain.errors import FieldError

RESET_TOKEN_LIFETIME = timedelta(hours=1)
PASSWORD_MIN, PASSWORD_MAX = 10, 128


def password_errors(field: str, password: str) -> list[FieldError]:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return [FieldError(field, f"must be {PASSWORD_MIN}..{PASSWORD_MAX} characters")]
    if password.isalpha() or password.isdigit():
        return [FieldError(field, "must not be all letters or all digits")]
    return []


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Credentials:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._hasher = PasswordHasher()
        # Verified against when the email is unknown, so both answers take as long.
        self._decoy = self._hasher.hash("decoy password that matches nothing 0")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def store_hash(self, user_id: UUID, password_hash: str, at: datetime) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
                "changed_at = EXCLUDED.changed_at",
                (user_id, password_hash, at),
            )

    def verify(self, user_id: UUID | None, password: str) -> bool:
        stored = self._stored_hash(user_id) if user_id else None
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def _stored_hash(self, user_id: UUID) -> str | None:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute("SELECT password_hash FROM credentials WHERE user_id = %s", (user_id,))
            row = curs.fetchone()
        return None if row is None else str(row["password_hash"])

    def issue_reset_token(self, user_id: UUID, token: str, at: datetime) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO password_reset_tokens (token_digest, user_id, expires_at) "
                "VALUES (%s, %s, %s)",
                (digest(token), user_id, at + RESET_TOKEN_LIFETIME),
            )

    def redeem_reset_token(self, token: str, new_password: str, at: datetime) -> UUID | None:
        """Spend the token and set the password in one transaction, or do neither.

        The token is looked up (and its row locked) before the new password is hashed: a
        bogus token costs one indexed read, never an argon2 hash."""
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT user_id FROM password_reset_tokens WHERE token_digest = %s "
                "AND used_at IS NULL AND expires_at > %s FOR UPDATE",
                (digest(token), at),
            )
            row = curs.fetchone()
            if row is None:
                return None
            user_id: UUID = row["user_id"]
            password_hash = self._hasher.hash(new_password)
            # An upsert: an account whose first hash never got stored (a crash right after
            # its registration) gets its password this way.
            curs.execute(
                "INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
                "changed_at = EXCLUDED.changed_at",
                (user_id, password_hash, at),
            )
            # This token and any other outstanding token of this user die with this reset.
            curs.execute(
                "UPDATE password_reset_tokens SET used_at = %s "
                "WHERE user_id = %s AND used_at IS NULL",
                (at, user_id),
            )
        return user_id

    def password_changed_at(self, user_id: UUID) -> datetime | None:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute("SELECT changed_at FROM credentials WHERE user_id = %s", (user_id,))
            row = curs.fetchone()
        return None if row is None else row["changed_at"]
