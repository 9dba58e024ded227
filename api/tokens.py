"""Access tokens: short-lived HS256 JWTs naming the user (`sub`) and nothing it could outlive.

Role and status are deliberately not in the token: they are looked up per request, so a role
change or a deactivation takes effect at once instead of when the token expires.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from api.errors import Problem

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti"]
# The moment of issue in microseconds since the epoch, beside the whole seconds of `iat`: a
# password reset voids the tokens issued before it, including those of the same second.
ISSUED_US_CLAIM = "iat_us"
# Verified tokens remembered per process: a client sends the same token until it expires, and
# re-verifying it (~60 µs of CPU with PyJWT) is a tenth of a small read's CPU.
VERIFIED_CACHE_SIZE = 10_000


class TokenIssuer:
    def __init__(
        self,
        secret_key: str,
        lifetime: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key = secret_key
        self.lifetime = lifetime
        self._clock = clock
        # token -> (subject, exp, issued in µs): only the exact bytes that verified once hit this.
        self._verified: dict[str, tuple[UUID, int, int]] = {}

    def issue(self, user_id: UUID) -> str:
        now = self._clock()
        claims = {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            ISSUED_US_CLAIM: _microseconds(now),
            "exp": int((now + self.lifetime).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def subject(self, token: str) -> UUID:
        """The user a valid token names; 401 for anything forged, expired or malformed."""
        return self.verified(token)[0]

    def verified(self, token: str) -> tuple[UUID, datetime]:
        """The user a valid token names and when it was issued (a password change voids
        tokens issued before it); 401 for anything forged, expired or malformed.

        Only HS256 is accepted, so `alg: none` and algorithm-confusion tokens fail here.
        """
        subject, issued, _ = self.claims(token)
        return subject, issued

    def claims(self, token: str) -> tuple[UUID, datetime, datetime]:
        """The user a valid token names, when it was issued and when it expires (a live stream
        ends then); 401 as `verified` says."""
        known = self._verified.get(token)
        if known is None:
            known = self._verify(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = known
        subject, expires, issued = known
        if self._clock().timestamp() >= expires:
            raise unauthenticated("the token has expired")
        issued_at = _EPOCH + timedelta(microseconds=issued)
        return subject, issued_at, datetime.fromtimestamp(expires, UTC)

    def _verify(self, token: str) -> tuple[UUID, int, int]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": REQUIRED_CLAIMS},
            )
            issued = claims.get(ISSUED_US_CLAIM)
            if not isinstance(issued, int) or issued // 1_000_000 != int(claims["iat"]):
                # A token of an earlier Trail (whole seconds only) counts from the start of its
                # second: one issued in the second of a password change is void with it.
                issued = int(claims["iat"]) * 1_000_000
            return UUID(str(claims["sub"])), int(claims["exp"]), issued
        except jwt.ExpiredSignatureError:
            raise unauthenticated("the token has expired") from None
        except (jwt.InvalidTokenError, ValueError):
            raise unauthenticated("the token is invalid") from None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(moment: datetime) -> int:
    """Exact, where `timestamp()` would round through a float."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise unauthenticated("send `Authorization: Bearer <token>`")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("send `Authorization: Bearer <token>`")
    return token.strip()


def unauthenticated(detail: str) -> Problem:
    return Problem(401, detail, kind="unauthenticated", headers={"WWW-Authenticate": "Bearer"})
