"""Browser sessions: a signed cookie the server verifies on every request.

The cookie holds an HS256 token signed with a key derived from the deployment's secret key for
this purpose alone (so a session cookie is never an API token, nor the other way round):

    sub   the user            sid   the session's id (stays the same when the cookie is renewed)
    auth  when the person signed in (milliseconds since the epoch)
    iat   when this cookie was issued             exp   when it stops working

A session lasts `idle` after its last renewal and never more than `absolute` after signing in;
a cookie older than `renew_after` is reissued with a fresh `exp` on the next page. What the
signature cannot say is checked on every request too: the account as it is now
(`Accounts.actor(user, auth)`: a deactivated or pending account, or a password changed since
`auth`, ends the session, the same rule that voids API tokens), and whether the person signed
out: signing out records the session id in Redis until its `exp`, so a copy of the cookie is
refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt
import msgspec
from redis import Redis
from redis.exceptions import RedisError

ALGORITHM = "HS256"
REQUIRED = ["sub", "sid", "auth", "iat", "exp"]


def derived_key(secret_key: str, purpose: str) -> bytes:
    """A key for one purpose only, from the deployment's secret key."""
    return hmac.new(secret_key.encode(), f"trail:{purpose}".encode(), hashlib.sha256).digest()


class SessionsUnavailable(Exception):
    """Whether a session was ended cannot be told right now (Redis does not answer)."""


class Session(msgspec.Struct, frozen=True):
    user_id: UUID
    session_id: str
    signed_in_ms: int
    issued_at: int
    expires_at: int

    @property
    def signed_in(self) -> datetime:
        """Exact to the millisecond, so a password changed a moment later ends the session."""
        return datetime.fromtimestamp(self.signed_in_ms / 1000, UTC)

    @property
    def signed_in_at(self) -> int:
        return self.signed_in_ms // 1000


class Sessions:
    def __init__(
        self,
        secret_key: str,
        redis: Redis,
        *,
        idle: timedelta,
        absolute: timedelta,
        renew_after: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        namespace: str = "trail",
    ) -> None:
        self._key = derived_key(secret_key, "web-session")
        self._redis = redis
        # Sessions ended before their cookie expires (sign-out, password reset), by id.
        self._ended_prefix = f"{namespace}:web-session-ended"
        self.idle = idle
        self.absolute = absolute
        self.renew_after = renew_after
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock().timestamp())

    def start(self, user_id: UUID) -> Session:
        """A new session for someone who has just proved who they are."""
        moment = self._clock()
        return self._issue(user_id, secrets.token_urlsafe(18),
                           signed_in_ms=int(moment.timestamp() * 1000),
                           now=int(moment.timestamp()))

    def _issue(self, user_id: UUID, session_id: str, *, signed_in_ms: int, now: int) -> Session:
        cap = signed_in_ms // 1000 + int(self.absolute.total_seconds())
        expires = min(now + int(self.idle.total_seconds()), cap)
        return Session(user_id, session_id, signed_in_ms, now, expires)

    def encode(self, session: Session) -> str:
        claims = {
            "sub": str(session.user_id),
            "sid": session.session_id,
            "auth": session.signed_in_ms,
            "iat": session.issued_at,
            "exp": session.expires_at,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie holds: None for anything forged, expired, past its absolute
        lifetime or signed out. SessionsUnavailable when sign-outs cannot be checked."""
        if not cookie:
            return None
        try:
            # Times are checked below against this object's clock, not PyJWT's.
            claims = jwt.decode(
                cookie, self._key, algorithms=[ALGORITHM],
                options={"require": REQUIRED, "verify_exp": False, "verify_iat": False},
            )
            session = Session(
                user_id=UUID(str(claims["sub"])),
                session_id=str(claims["sid"]),
                signed_in_ms=int(claims["auth"]),
                issued_at=int(claims["iat"]),
                expires_at=int(claims["exp"]),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError):
            return None
        now = self._now()
        if now >= session.expires_at:
            return None
        if now >= session.signed_in_at + int(self.absolute.total_seconds()):
            return None
        if self._ended(session.session_id):
            return None
        return session

    def renewed(self, session: Session) -> Session | None:
        """A fresh cookie for a session whose cookie is older than `renew_after`, else None."""
        now = self._now()
        if now - session.issued_at < int(self.renew_after.total_seconds()):
            return None
        renewed = self._issue(session.user_id, session.session_id,
                              signed_in_ms=session.signed_in_ms, now=now)
        return renewed if renewed.expires_at > session.expires_at else None

    def end(self, session: Session) -> None:
        """Sign out: the session id is refused from now until its cookie would have expired."""
        ttl = session.expires_at - self._now()
        if ttl <= 0:
            return
        try:
            self._redis.set(f"{self._ended_prefix}:{session.session_id}", 1, ex=ttl)
        except RedisError as error:
            raise SessionsUnavailable(str(error)) from None

    def _ended(self, session_id: str) -> bool:
        try:
            return bool(self._redis.exists(f"{self._ended_prefix}:{session_id}"))
        except RedisError as error:
            # Failing closed: a signed-out cookie must not work again because Redis is away.
            raise SessionsUnavailable(str(error)) from None
