"""Nothing that costs an argon2 hash or an email to someone else comes in bulk: registrations
per client address, password-reset emails per email and per address (429 with Retry-After)."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.api.conftest import Client
from tests.api.test_fields import assert_problem

REGISTRATIONS = 4


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "TRAIL_REGISTRATIONS_PER_HOUR": str(REGISTRATIONS)}


def _register(client: Client, n: int) -> int:
    response = client.post("/auth/register", json={
        "name": f"Person {n}", "email": f"person{n}@example.com", "password": "correct horse 9"})
    return response.status_code


def _reset_emails(database_url: str, email: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'password_reset' "
                           "AND recipient_email = %s", (email,)).fetchone()
    return int(row[0]) if row else 0


def test_registrations_are_limited_per_client_address(client: Client) -> None:
    assert [_register(client, n) for n in range(REGISTRATIONS)] == [201] * REGISTRATIONS
    refused = client.post("/auth/register", json={
        "name": "One Too Many", "email": "too.many@example.com", "password": "correct horse 9"})
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["retry-after"]) <= 3600


def test_reset_emails_are_limited_per_email_and_per_address(
    client: Client, scratch_database_url: str
) -> None:
    victim = "person0@example.com"
    answers = [client.post("/auth/password-reset", json={"email": victim}).status_code
               for _ in range(15)]
    assert answers == [202] * 3 + [429] * 12
    deadline = time.monotonic() + 10
    while _reset_emails(scratch_database_url, victim) < 3:
        assert time.monotonic() < deadline, "the three reset emails were not queued"
        time.sleep(0.05)
    # 3 emails, not 15: a refused request schedules no work after its answer.
    assert _reset_emails(scratch_database_url, victim) == 3
    # Unknown emails count the same: the answer never tells whether an account exists; and
    # the address's own limit (20 per hour) stops a sweep over many emails.
    spread = [client.post("/auth/password-reset", json={"email": f"nobody{n}@example.com"}
                          ).status_code for n in range(20)]
    assert spread == [202] * 5 + [429] * 15
    refused = client.post("/auth/password-reset", json={"email": "nobody99@example.com"})
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["retry-after"]) <= 3600
