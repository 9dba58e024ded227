"""What the web app is given to work with; `runtime/` builds it from the same pieces as the API's
(one write side, one pool, one Redis), so both are one process answering one set of rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool
from redis import Redis

from commands.logins import LoginLimiter
from commands.services import Commands
from commands.throttles import Throttle


class PasswordResetSender(Protocol):
    """Queues the email carrying a password-reset link to its owner."""

    def __call__(self, *, user_id: UUID, email: str, name: str, token: str) -> None: ...


@dataclass(frozen=True)
class WebSettings:
    secret_key: str
    # The deployment's public URL (TRAIL_BASE_URL), if set: an https one makes cookies Secure
    # even behind a proxy that speaks plain HTTP to Trail.
    base_url: str | None = None
    registration: str = "open"
    session_idle: timedelta = timedelta(days=7)
    session_absolute: timedelta = timedelta(days=30)
    session_renew_after: timedelta = timedelta(hours=1)
    min_position_timeout: float = 5.0
    # Larger than the API's JSON bodies: a ticket's description alone may be 20,000 characters.
    max_form_body: int = 1024 * 1024
    # What the web app's Redis keys start with (TRAIL_REDIS_NAMESPACE, as the API's).
    redis_namespace: str = "trail"


@dataclass(frozen=True)
class WebServices:
    commands: Commands
    pool: ConnectionPool[Connection[DictRow]]
    redis: Redis
    limiter: LoginLimiter
    settings: WebSettings
    send_password_reset: PasswordResetSender
    # The API's own throttles (same names, limits and Redis keys): a page and a JSON request
    # count against one allowance.
    registrations: Throttle
    resets_by_address: Throttle
    resets_by_email: Throttle
