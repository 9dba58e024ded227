"""The sign-up and reset pages take the API's throttles: one allowance per client address (and
per email for reset emails), whichever way the requests come in."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.web.conftest import Client
from tests.web.test_sessions import browser, csrf_token

REGISTRATIONS = 4


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "TRAIL_REGISTRATIONS_PER_HOUR": str(REGISTRATIONS)}


def _register_on_the_page(web_url: str, n: int) -> int:
    with browser(web_url) as http:
        token = csrf_token(http, "/register")
        answer = http.post("/register", data={
            "_csrf": token, "name": f"Page Person {n}", "email": f"page{n}@example.com",
            "password": "correct horse 9", "password_again": "correct horse 9"})
        return answer.status_code


def _reset_emails(database_url: str, email: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'password_reset' "
                           "AND recipient_email = %s", (email,)).fetchone()
    return int(row[0]) if row else 0


def test_registering_on_the_page_counts_with_the_api(web_url: str, client: Client) -> None:
    api = [client.post("/auth/register", json={
        "name": f"Api Person {n}", "email": f"api{n}@example.com",
        "password": "correct horse 9"}).status_code for n in range(2)]
    pages = [_register_on_the_page(web_url, n) for n in range(2)]
    assert api == [201, 201] and pages == [303, 303]

    with browser(web_url) as http:
        token = csrf_token(http, "/register")
        refused = http.post("/register", data={
            "_csrf": token, "name": "One Too Many", "email": "too.many@example.com",
            "password": "correct horse 9", "password_again": "correct horse 9"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "Too many requests from here" in refused.text
    assert "correct horse 9" not in refused.text
    assert client.post("/auth/register", json={
        "name": "Api Too Many", "email": "api.too.many@example.com",
        "password": "correct horse 9"}).status_code == 429


def test_reset_emails_asked_for_on_the_page_are_limited(
    web_url: str, scratch_database_url: str
) -> None:
    victim = "page0@example.com"
    answers = []
    with browser(web_url) as http:
        for _ in range(5):
            token = csrf_token(http, "/password-reset")
            answers.append(http.post("/password-reset",
                                     data={"_csrf": token, "email": victim}).status_code)
    assert answers == [200] * 3 + [429] * 2
    deadline = time.monotonic() + 10
    while _reset_emails(scratch_database_url, victim) < 3:
        assert time.monotonic() < deadline, "the three reset emails were not queued"
        time.sleep(0.05)
    assert _reset_emails(scratch_database_url, victim) == 3
