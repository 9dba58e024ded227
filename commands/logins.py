"""Signing in: the password check and the limits on failed attempts, one rule for every way in
(the API's `/auth/token` and the web app's sign-in page count the same failures).

Failures are counted per email and per client address in Redis, so that every process counts
the same ones. Each attempt is counted before its password is checked (and taken back when it
proves no failure), so parallel attempts cannot outrun the count. A fixed window starts at the
first attempt; once either count reaches its limit, every attempt for that email or from that
address is refused until the window ends, even with the right password, so guessing gains
nothing from a lucky try.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from commands.accounts import Accounts
from commands.errors import LoginsUnavailable, TooManyLogins, Unauthenticated
from domain.user import User

PREFIX = "trail:login-failures"


class LoginLimiter:
    """Counts every attempt before its password is checked, in one atomic step per attempt,
    so parallel guesses cannot all slip in under the limit: with a limit of 5, at most 5 are
    ever checked. An attempt that turns out not to be a failure (the right password, or an
    account waiting for approval) is taken back off the counts."""

    def __init__(
        self, redis: Redis, *, per_email: int, per_address: int, window: timedelta,
        namespace: str = "trail",
    ) -> None:
        self._redis = redis
        self._limits = {"email": per_email, "address": per_address}
        self._window = max(1, int(window.total_seconds()))
        # Keys under the deployment's namespace: two deployments (or two test runs) on one
        # Redis never share counts.
        self._prefix = f"{namespace}:login-failures"

    def _keys(self, email: str, address: str) -> dict[str, str]:
        return {"email": self._key("email", email.strip().lower()),
                "address": self._key("address", address)}

    def _key(self, kind: str, value: str) -> str:
        # Hashed so that Redis never holds addresses or emails in clear.
        return f"{self._prefix}:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    def attempt(self, email: str, address: str) -> None:
        """Count one attempt; TooManyLogins (with the seconds to wait) when it is past either
        limit, and then the password must not be checked."""
        keys = self._keys(email, address)
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                for key in keys.values():
                    # SET NX EX then INCR: the window starts at the first attempt and INCR keeps
                    # the expiry (works on Redis 6, unlike EXPIRE NX).
                    pipe.set(key, 0, ex=self._window, nx=True)
                    pipe.incr(key)
                    pipe.ttl(key)
                replies = pipe.execute()
        except RedisError:
            raise _unavailable() from None
        waits = []
        for n, kind in enumerate(keys):
            count, ttl = replies[3 * n + 1], replies[3 * n + 2]
            if int(count) > self._limits[kind]:
                waits.append(ttl if isinstance(ttl, int) and ttl > 0 else self._window)
        if waits:
            raise TooManyLogins(max(waits))

    def succeeded(self, email: str, address: str) -> None:
        """A right password clears the email's count; the address's count takes this attempt
        back (it was no failure) and keeps the others."""
        keys = self._keys(email, address)
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys["email"])
                _take_back(pipe, keys["address"])
                pipe.execute()
        except RedisError:
            raise _unavailable() from None

    def not_a_failure(self, email: str, address: str) -> None:
        """Take this attempt back off both counts: it was not a guess (a pending account's
        right password) or was never judged (the check itself failed)."""
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                for key in self._keys(email, address).values():
                    _take_back(pipe, key)
                pipe.execute()
        except RedisError:
            raise _unavailable() from None


def _take_back(pipe: Pipeline, key: str) -> None:
    # Only a count that still exists: DECR of an expired key would start one at -1 with no
    # expiry.
    pipe.eval(_DECREMENT_IF_POSITIVE, 1, key)


_DECREMENT_IF_POSITIVE = (
    "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then "
    "return redis.call('DECR', KEYS[1]) end return 0"
)


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
    limiter.attempt(email, address)
    try:
        user = accounts.authenticate(email, password)
    except Unauthenticated:
        # Counted already, before the password was checked.
        raise
    except BaseException:
        limiter.not_a_failure(email, address)
        raise
    limiter.succeeded(email, address)
    return user
