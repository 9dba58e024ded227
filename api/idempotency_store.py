"""Where `Idempotency-Key` claims and their answers live: the `api_idempotency_keys` table.

A claim inserts the key, or takes over one whose holder expired (24 h) or was abandoned while
running with the same request; otherwise it reports what the key holds: the stored answer, a
request still in flight, or a different request (mismatch).
"""

from __future__ import annotations

import itertools

import msgspec
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

from api.services import ApiSettings

# Expired keys are deleted by the claims themselves, once every this many per process.
_PURGE_EVERY = 500


class StoredResponse(msgspec.Struct, frozen=True):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Claimed:
    """The key is this request's to answer."""


class InFlight:
    """An earlier request with the key is still running."""


class Mismatch:
    """The key was used for a different request."""


ClaimResult = Claimed | InFlight | Mismatch | StoredResponse


class IdempotencyStore:
    def __init__(self, pool: ConnectionPool[Connection[DictRow]], settings: ApiSettings) -> None:
        self._pool = pool
        self._ttl = settings.idempotency_ttl
        self._abandoned = settings.idempotency_abandoned_after
        self._claims = itertools.count(1)

    def claim(self, caller: str, key: str, fingerprint: str) -> ClaimResult:
        with self._pool.connection() as conn:
            if next(self._claims) % _PURGE_EVERY == 0:
                conn.execute(
                    "DELETE FROM api_idempotency_keys WHERE created_at < now() - %s",
                    (self._ttl,),
                )
            for _ in range(3):
                claimed = conn.execute(
                    "INSERT INTO api_idempotency_keys (caller, key, fingerprint) "
                    "VALUES (%(caller)s, %(key)s, %(fingerprint)s) "
                    "ON CONFLICT (caller, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
                    "status = NULL, headers = NULL, body = NULL, created_at = now() "
                    "WHERE api_idempotency_keys.created_at < now() - %(ttl)s "
                    "OR (api_idempotency_keys.status IS NULL "
                    "AND api_idempotency_keys.created_at < now() - %(abandoned)s "
                    "AND api_idempotency_keys.fingerprint = EXCLUDED.fingerprint) "
                    "RETURNING 1",
                    {"caller": caller, "key": key, "fingerprint": fingerprint,
                     "ttl": self._ttl, "abandoned": self._abandoned},
                ).fetchone()
                if claimed is not None:
                    return Claimed()
                row = conn.execute(
                    "SELECT fingerprint, status, headers, body FROM api_idempotency_keys "
                    "WHERE caller = %s AND key = %s",
                    (caller, key),
                ).fetchone()
                if row is None:
                    # Purged between the two statements: claim again.
                    continue
                if row["fingerprint"] != fingerprint:
                    return Mismatch()
                if row["status"] is None:
                    return InFlight()
                return StoredResponse(
                    status=row["status"],
                    headers=[(name, value) for name, value in row["headers"]],
                    body=bytes(row["body"]),
                )
        return InFlight()

    def complete(self, caller: str, key: str, response: StoredResponse) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE api_idempotency_keys SET status = %s, headers = %s, body = %s "
                "WHERE caller = %s AND key = %s",
                (response.status, msgspec.json.encode(response.headers).decode(), response.body,
                 caller, key),
            )

    def release(self, caller: str, key: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "DELETE FROM api_idempotency_keys WHERE caller = %s AND key = %s "
                "AND status IS NULL",
                (caller, key),
            )
