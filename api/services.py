"""What the API is given to work with; `runtime/` builds it, nothing here connects by itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool
from redis import Redis

from blobstore import BlobStore
from commands.services import Commands


class PasswordResetSender(Protocol):
    """Sends (or queues) the email carrying a password-reset token to its owner."""

    def __call__(self, *, user_id: UUID, email: str, name: str, token: str) -> None: ...


@dataclass(frozen=True)
class ApiSettings:
    secret_key: str
    token_lifetime: timedelta = timedelta(minutes=30)
    # Login failures allowed per window before 429, per email and per client address. The
    # address limit is higher: several people may share one (an office behind NAT).
    login_failures_per_email: int = 5
    login_failures_per_address: int = 20
    login_window: timedelta = timedelta(minutes=15)
    # Per client address per `throttle_window`: accounts registered (each an argon2 hash) and
    # password-reset emails asked for; and reset emails per email, so nobody can flood a
    # victim's inbox from many addresses.
    registrations_per_address: int = 20
    resets_per_address: int = 20
    resets_per_email: int = 3
    throttle_window: timedelta = timedelta(hours=1)
    # Every Redis key of the API's counters starts with it: deployments (or test runs)
    # sharing one Redis never share counts.
    redis_namespace: str = "trail"
    min_position_timeout: float = 5.0
    idempotency_ttl: timedelta = timedelta(hours=24)
    # A request still marked in flight after this long died with its process; its key may be
    # used again (see docs/API-NOTES.md).
    idempotency_abandoned_after: timedelta = timedelta(minutes=5)
    stream_heartbeat: float = 15.0
    # Browser origins allowed to call the API (CORS); none: CORS off.
    cors_origins: tuple[str, ...] = ()
    # The schema migrations this code needs applied: `/readyz` is 503 until they are.
    migrations: tuple[str, ...] = ()
    # TRAIL_MAX_UPLOAD_MB: the bytes one attachment may have.
    max_upload_bytes: int = 10 * 1024 * 1024
    # Uploads one user may start per window (each hashes a file and emails the assignees).
    uploads_per_window: int = 100
    upload_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class ApiServices:
    commands: Commands
    # Read models and the API's own tables (idempotency keys); rows come back as dicts.
    pool: ConnectionPool[Connection[DictRow]]
    redis: Redis
    settings: ApiSettings
    send_password_reset: PasswordResetSender
    # Where attachment bytes are read from (the write side stores them).
    blobs: BlobStore
