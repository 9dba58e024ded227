"""Login limits, password reset end to end, and registration that needs approval."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
import redis

from commands.errors import TooManyLogins
from commands.logins import LoginLimiter
from tests.api.conftest import PASSWORD, Accounts, Client
from tests.api.test_fields import assert_problem


def test_too_many_failures_for_an_email_are_429_even_with_the_right_password(
    client: Client, accounts: Accounts
) -> None:
    client.register("Target Person", "target@example.com")
    for _ in range(5):
        wrong = client.post("/auth/token", json={"email": "target@example.com",
                                                 "password": "wrong guess 1"})
        assert wrong.status_code == 401
    right = client.post("/auth/token", json={"email": "TARGET@example.com",
                                             "password": PASSWORD})
    assert_problem(right, 429)
    assert 0 < int(right.headers["retry-after"]) <= 900
    # Other accounts from the same address are not locked out by one email's failures.
    assert client.post("/auth/token", json={"email": accounts.admin.email,
                                            "password": PASSWORD}).status_code == 200


@pytest.fixture
def limiter(redis_url: str) -> Iterator[LoginLimiter]:
    client = redis.Redis.from_url(redis_url)
    # Counts of their own: runs in parallel, or again within the window, never share them.
    namespace = f"test-{uuid.uuid4().hex}"
    yield LoginLimiter(client, per_email=2, per_address=3, window=timedelta(seconds=60),
                       namespace=namespace)
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


def test_the_address_limit_counts_failures_across_emails(limiter: LoginLimiter) -> None:
    address = "192.0.2.77"
    for n in range(3):
        limiter.attempt(f"user{n}@example.com", address)
    with pytest.raises(TooManyLogins) as raised:
        limiter.attempt("someone.else@example.com", address)
    assert 0 < raised.value.retry_after <= 60
    limiter.attempt("someone.else@example.com", "192.0.2.78")


def test_a_success_clears_the_email_count(limiter: LoginLimiter) -> None:
    email, address = "cleared@example.com", "192.0.2.90"
    limiter.attempt(email, address)
    limiter.attempt(email, address)
    limiter.succeeded(email, address)
    limiter.attempt(email, address)
    limiter.attempt(email, address)
    with pytest.raises(TooManyLogins):
        limiter.attempt(email, address)


def test_an_attempt_that_was_no_failure_is_taken_back(limiter: LoginLimiter) -> None:
    email, address = "pending@example.com", "192.0.2.91"
    for _ in range(5):
        limiter.attempt(email, address)
        limiter.not_a_failure(email, address)
    limiter.attempt(email, address)


def _reset_token(database_url: str, email: str) -> str:
    """The token of the reset email queued for `email` (queued just after the 202)."""
    deadline = time.monotonic() + 10
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT payload->>'token' FROM outbox WHERE kind = 'password_reset' "
                "AND recipient_email = %s ORDER BY seq DESC LIMIT 1", (email,)
            ).fetchone()
            if row is not None:
                token: str = row[0]
                return token
            time.sleep(0.05)
    raise AssertionError(f"no reset email was queued for {email}")


def test_password_reset_end_to_end(client: Client, accounts: Accounts,
                                   scratch_database_url: str) -> None:
    client.register("Forgetful Fred", "fred@example.com")
    before_reset = client.login("fred@example.com")
    # Tokens carry whole seconds: the reset must fall in a later second than this token.
    time.sleep(1.1)
    assert client.post("/auth/password-reset", json={"email": "FRED@example.com"}
                       ).status_code == 202
    token = _reset_token(scratch_database_url, "fred@example.com")
    weak = client.post("/auth/password-reset/confirm",
                       json={"token": token, "new_password": "short"})
    assert weak.status_code == 422
    done = client.post("/auth/password-reset/confirm",
                       json={"token": token, "new_password": "a brand new one 1"})
    assert done.status_code == 204
    assert client.post("/auth/token", json={"email": "fred@example.com",
                                            "password": PASSWORD}).status_code == 401
    after_reset = client.login("fred@example.com", "a brand new one 1")
    assert client.get("/me", token=after_reset).status_code == 200
    assert_problem(client.get("/me", token=before_reset), 401)
    again = client.post("/auth/password-reset/confirm",
                        json={"token": token, "new_password": "yet another one 2"})
    assert_problem(again, 400)
