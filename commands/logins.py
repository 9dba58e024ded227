"""Signing in: the password check and the limits on failed attempts, one rule for every way in
(the API's `/auth/token` and the web app's sign-in page count the same failures).

Failures are counted per email and per client address in Redis, so that every process counts
the same ones. A fixed window starts at the first failure; once either count reaches its limit,
every attempt for that email or from that address is refused until the window ends, even with
the right password, so guessing gains nothing from a lucky try.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from redis import Redis
from redis.exceptions import RedisError

from commands.accounts import Accounts
from commands.errors import AccountPending, LoginsUnavailable, TooManyLogins, Unauthenticated
from domain.user import User

PREFIX = "trail:login-failures"


def _key(kind: str, value: str) -> str:
    # Hashed so that Redis never holds addresses or emails in clear.
    return f"{PREFIX}:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


class LoginLimiter:
    def __init__(
        self, redis: Redis, *, per_email: int, per_address: int, window: timedelta
    ) -> None:
        self._redis = redis
        self._limits = {"email": per_email, "address": per_address}
        self._window = max(1, int(window.total_seconds()))

    def _keys(self, email: str, address: str) -> dict[str, str]:
        return {"email": _key("email", email.strip().lower()), "address": _key("address", address)}

    def check(self, email: str, address: str) -> None:
        """TooManyLogins (with the seconds to wait) while either count is at its limit."""
        keys = self._keys(email, address)
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for key in keys.values():
                    pipe.get(key)
                    pipe.ttl(key)
                replies = pipe.execute()
        except RedisError:
            raise _unavailable() from None
        waits = []
        for n, kind in enumerate(keys):
            count, ttl = replies[2 * n], replies[2 * n + 1]
            if count is not None and int(count) >= self._limits[kind]:
                waits.append(ttl if isinstance(ttl, int) and ttl > 0 else self._window)
        if waits:
            retry_after = max(waits)
            raise TooManyLogins(retry_after)

    def failed(self, email: str, address: str) -> None:
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                for key in self._keys(email, address).values():
                    # SET NX EX then INCR: the window starts at the first failure and INCR keeps
                    # the expiry (works on Redis 6, unlike EXPIRE NX).
                    pipe.set(key, 0, ex=self._window, nx=True)
                    pipe.incr(key)
                pipe.execute()
        except RedisError:
            raise _unavailable() from None

    def succeeded(self, email: str) -> None:
        """A right password clears the email's count; the address keeps its own."""
        try:
            self._redis.delete(self._keys(email, "")["email"])
        except RedisError:
            raise _unavailable() from None


def _unavailable() -> LoginsUnavailable:
    # Failing closed: without the counters, unlimited guessing would be possible.
    return LoginsUnavailable("signing in is unavailable for a moment")


def sign_in(
    accounts: Accounts, limiter: LoginLimiter, email: str, password: str, address: str
) -> User:
    """The account `email` and `password` open, counted against the limits.

    Unauthenticated for wrong credentials (a failure), AccountPending for the right password of
    an account waiting for approval (not a guess, so not counted), TooManyLogins past a limit.
    """
    limiter.check(email, address)
    try:
        user = accounts.authenticate(email, password)
    except Unauthenticated:
        limiter.failed(email, address)
        raise
    except AccountPending:
        raise
    limiter.succeeded(email)
    return user
