"""Sessions and CSRF: the cookie's signature, expiry and flags, the server-side end of a session
(sign-out, password reset, deactivation), forms refused without their token, and the API's
answers left as they were. Over HTTP against the real server, plus the codec on its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
import redis

from tests.api.test_accounts import _reset_token
from tests.web.conftest import PASSWORD, Accounts, Client
from web import csrf
from web.sessions import Sessions

TOKEN = re.compile(r'name="_csrf" value="([^"]+)"')


def browser(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30, follow_redirects=False)


def csrf_token(http: httpx.Client, path: str = "/signin") -> str:
    page = http.get(path)
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in(url: str, email: str) -> httpx.Client:
    http = browser(url)
    token = csrf_token(http)
    answer = http.post("/signin", data={"_csrf": token, "email": email, "password": PASSWORD,
                                        "next": "/t"})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/t"
    return http


# ----------------------------------------------------------------------------- the codec


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def test_a_session_cookie_is_signed_and_expires(redis_client: redis.Redis) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    sessions = Sessions("secret-one", redis_client, idle=timedelta(hours=2),
                        absolute=timedelta(hours=5), renew_after=timedelta(hours=1),
                        clock=lambda: now[0])
    user = uuid4()
    session = sessions.start(user)
    cookie = sessions.encode(session)
    assert sessions.read(cookie) == session
    # Another deployment's key, a tampered cookie, garbage: no session.
    other = Sessions("secret-two", redis_client, idle=timedelta(hours=2),
                     absolute=timedelta(hours=5), renew_after=timedelta(hours=1),
                     clock=lambda: now[0])
    assert other.read(cookie) is None
    assert sessions.read(cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]) is None
    assert sessions.read("not a cookie") is None
    # Renewed after an hour, with the same id and sign-in time; never past the absolute cap.
    now[0] += timedelta(hours=1, minutes=30)
    renewed = sessions.renewed(session)
    assert renewed is not None
    assert (renewed.session_id, renewed.signed_in_ms) == (session.session_id,
                                                          session.signed_in_ms)
    assert renewed.expires_at > session.expires_at
    now[0] += timedelta(hours=1)
    assert sessions.read(sessions.encode(renewed)) is not None
    assert sessions.read(cookie) is None  # the first cookie's two idle hours are over
    now[0] += timedelta(hours=3)
    assert sessions.read(sessions.encode(renewed)) is None  # five hours after signing in


def test_a_session_ended_on_the_server_is_refused_even_with_its_cookie(
    redis_client: redis.Redis,
) -> None:
    sessions = Sessions("secret", redis_client, idle=timedelta(hours=2),
                        absolute=timedelta(days=1), renew_after=timedelta(hours=1))
    session = sessions.start(uuid4())
    cookie = sessions.encode(session)
    sessions.end(session)
    assert sessions.read(cookie) is None


def test_a_csrf_token_belongs_to_one_browser_and_one_session() -> None:
    key = b"k" * 32
    token = csrf.token(key, "browser-secret", "session-1")
    assert csrf.valid(key, "browser-secret", "session-1", token)
    assert not csrf.valid(key, "other-browser", "session-1", token)
    assert not csrf.valid(key, "browser-secret", "session-2", token)
    assert not csrf.valid(key, "browser-secret", None, token)
    assert not csrf.valid(key, "browser-secret", "session-1", None)
    assert not csrf.valid(b"x" * 32, "browser-secret", "session-1", token)
    assert csrf.same_origin(None, None, {"trail.test"})
    assert csrf.same_origin("https://trail.test", "same-origin", {"trail.test"})
    assert not csrf.same_origin("https://evil.test", None, {"trail.test"})
    assert not csrf.same_origin(None, "cross-site", {"trail.test"})
    assert not csrf.same_origin("null", None, {"trail.test"})


# ----------------------------------------------------------------------------- over HTTP


def test_an_email_link_without_a_session_leads_to_sign_in_and_back(
    web_url: str, accounts: Accounts
) -> None:
    http = browser(web_url)
    answer = http.get("/t/WEB-42")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/t/WEB-42"
    page = http.get(answer.headers["location"])
    assert 'name="next" value="/t/WEB-42"' in page.text
    token = TOKEN.search(page.text)
    assert token
    signed = http.post("/signin", data={"_csrf": token.group(1), "next": "/t/WEB-42",
                                        "email": accounts.developer.email,
                                        "password": PASSWORD})
    assert signed.status_code == 303
    assert signed.headers["location"] == "/t/WEB-42"


def test_sign_in_never_sends_people_to_another_site(web_url: str, accounts: Accounts) -> None:
    http = browser(web_url)
    token = csrf_token(http)
    for target in ("https://evil.test/", "//evil.test/x", "/\\evil.test"):
        answer = http.post("/signin", data={"_csrf": token, "next": target,
                                            "email": accounts.developer.email,
                                            "password": PASSWORD})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"
        token = csrf_token(http, "/t")  # signed in now: a token of the new session


def test_the_session_cookie_is_http_only_and_same_site(web_url: str, accounts: Accounts) -> None:
    http = browser(web_url)
    token = csrf_token(http)
    answer = http.post("/signin", data={"_csrf": token, "email": accounts.admin.email,
                                        "password": PASSWORD, "next": "/"})
    cookies = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in cookies if c.startswith("trail_session="))
    assert "HttpOnly" in session
    assert "SameSite=lax" in session or "SameSite=Lax" in session
    assert "Path=/" in session
    # Plain HTTP here; over HTTPS (or with an https TRAIL_BASE_URL) the cookie is Secure.
    assert "Secure" not in session


def test_a_form_without_its_token_is_refused(web_url: str, accounts: Accounts) -> None:
    http = signed_in(web_url, accounts.developer.email)
    before = http.get("/t")
    assert before.status_code == 200
    refused = http.post("/t/new", data={"title": "Forged", "project_id": str(uuid4())})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    forged = http.post("/t/new", data={"_csrf": "not-the-token", "title": "Forged"})
    assert forged.status_code == 403
    # A token taken from another browser is no good either.
    other = signed_in(web_url, accounts.admin.email)
    stolen = csrf_token(other, "/t")
    assert http.post("/t/new", data={"_csrf": stolen, "title": "Forged"}).status_code == 403
    # Nor a request another site makes, even with the right token.
    token = csrf_token(http, "/t")
    cross = http.post("/signout", data={"_csrf": token},
                      headers={"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert http.get("/t").status_code == 200
    # Sign-in forms need theirs too (no logging someone into an attacker's account).
    anonymous = browser(web_url)
    assert anonymous.post("/signin", data={"email": accounts.admin.email,
                                           "password": PASSWORD}).status_code == 403


def test_signing_out_ends_the_session_on_the_server(web_url: str, accounts: Accounts) -> None:
    http = signed_in(web_url, accounts.developer.email)
    copy = dict(http.cookies)
    token = csrf_token(http, "/t")
    out = http.post("/signout", data={"_csrf": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/signin"
    # A copy of the cookie taken before signing out opens nothing.
    thief = browser(web_url)
    for name, value in copy.items():
        thief.cookies.set(name, value)
    assert thief.get("/t").status_code == 303


def test_a_password_reset_and_a_deactivation_end_sessions(
    web_url: str, client: Client, accounts: Accounts, scratch_database_url: str
) -> None:
    client.register("Sam Session", "sam@example.com")
    http = signed_in(web_url, "sam@example.com")
    assert http.get("/t").status_code == 200
    user_id = client.get("/me", client.login("sam@example.com")).json()["id"]
    deactivated = client.patch(f"/users/{user_id}", accounts.admin.token,
                               json={"status": "deactivated"})
    assert deactivated.status_code == 200
    assert http.get("/t").status_code == 303
    reactivated = client.patch(f"/users/{user_id}", accounts.admin.token,
                               json={"status": "active"})
    assert reactivated.status_code == 200
    # The browser dropped its cookie when it was refused; reactivated, the person signs in again.
    http = signed_in(web_url, "sam@example.com")
    assert http.get("/t").status_code == 200
    stranger = browser(web_url)
    asked = stranger.post("/password-reset", data={"_csrf": csrf_token(stranger, "/password-reset"),
                                                   "email": "SAM@example.com"})
    assert asked.status_code == 200
    assert "is on its way" in asked.text
    reset = _reset_token(scratch_database_url, "sam@example.com")
    form = stranger.get(f"/password-reset/confirm?token={reset}")
    assert form.headers["referrer-policy"] == "no-referrer"
    token = TOKEN.search(form.text)
    assert token
    done = stranger.post("/password-reset/confirm", data={
        "_csrf": token.group(1), "token": reset, "new_password": "a new horse 10",
        "password_again": "a new horse 10"})
    assert done.status_code == 303
    assert done.headers["location"] == "/signin"
    # The session that was open before the reset is over; the new password signs in.
    assert http.get("/t").status_code == 303
    again = browser(web_url)
    signed = again.post("/signin", data={"_csrf": csrf_token(again), "next": "/t",
                                         "email": "sam@example.com",
                                         "password": "a new horse 10"})
    assert signed.status_code == 303
    # The link works once.
    used = stranger.post("/password-reset/confirm", data={
        "_csrf": csrf_token(stranger, f"/password-reset/confirm?token={reset}"), "token": reset,
        "new_password": "another horse 11", "password_again": "another horse 11"})
    assert used.status_code == 400
    assert "unknown, already used or expired" in used.text


def test_the_api_answers_as_before(web_url: str) -> None:
    http = browser(web_url)
    answer = http.get("/tickets")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["www-authenticate"] == "Bearer"
    schema = http.get("/schema/openapi.json").json()
    assert not any(path.startswith(("/t/", "/signin", "/manage", "/dashboard"))
                   for path in schema["paths"])


def test_pages_carry_the_security_headers(web_url: str) -> None:
    page = browser(web_url).get("/signin")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"].startswith("text/html")
