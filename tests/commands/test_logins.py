"""Signing in under attack: attempts are counted before any password is checked, so parallel
guesses cannot outrun the limit; counted in the real Redis, checked against the real store."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from argon2 import PasswordHasher

from commands.errors import TooManyLogins, Unauthenticated
from commands.logins import LoginLimiter, sign_in
from commands.services import Commands
from tests.commands.conftest import PASSWORD, email, register

LIMIT = 5


class CountingHasher(PasswordHasher):
    """Argon2 as the app uses it, counting the passwords it checks."""

    def __init__(self, hasher: PasswordHasher) -> None:
        super().__init__(time_cost=hasher.time_cost, memory_cost=hasher.memory_cost,
                         parallelism=hasher.parallelism)
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def counting(app: Commands) -> Iterator[CountingHasher]:
    credentials = app.accounts.credentials
    original = credentials._hasher
    counting = CountingHasher(original)
    credentials._hasher = counting
    yield counting
    credentials._hasher = original


@pytest.fixture
def limiter(redis_url: str) -> Iterator[LoginLimiter]:
    client = redis.Redis.from_url(redis_url)
    namespace = f"test-{uuid.uuid4().hex}"
    yield LoginLimiter(client, per_email=LIMIT, per_address=100, window=timedelta(minutes=15),
                       namespace=namespace)
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


def test_twelve_parallel_wrong_passwords_check_at_most_the_limit(
    app: Commands, limiter: LoginLimiter, counting: CountingHasher
) -> None:
    address = email("target")
    register(app, "Target Person", address)
    start = threading.Barrier(12)

    def guess(n: int) -> str:
        start.wait()
        try:
            sign_in(app.accounts, limiter, address, f"wrong guess {n}", "192.0.2.10")
        except Unauthenticated:
            return "checked"
        except TooManyLogins:
            return "refused"
        return "signed in"

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(guess, range(12)))
    assert sorted(answers) == ["checked"] * LIMIT + ["refused"] * (12 - LIMIT)
    assert counting.verified == LIMIT
    # Past the limit even the right password is refused, and not checked.
    with pytest.raises(TooManyLogins):
        sign_in(app.accounts, limiter, address, PASSWORD, "192.0.2.10")
    assert counting.verified == LIMIT


def test_right_passwords_are_not_failures_of_the_address(
    app: Commands, limiter: LoginLimiter
) -> None:
    address = email("regular")
    user_id = register(app, "Regular Person", address)
    # Far more sign-ins than the email's limit: each right one clears its count.
    for _ in range(LIMIT * 3):
        assert sign_in(app.accounts, limiter, address, PASSWORD, "192.0.2.11").id == user_id
