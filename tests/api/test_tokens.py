"""Access tokens: forged, tampered, expired or otherwise wrong tokens are 401; the account's
current status and role apply at once."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from api.errors import Problem
from api.tokens import TokenIssuer
from commands.services import Commands
from tests.api.conftest import PASSWORD, Accounts, Client

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user_id, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, **overrides}


def _assert_401(client: Client, token: str) -> None:
    response = client.get("/me", token)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_alg_none_is_rejected(client: Client, accounts: Accounts) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(accounts.admin.id))}."
    _assert_401(client, token)


def test_a_token_signed_with_another_key_is_rejected(client: Client, accounts: Accounts) -> None:
    token = jwt.encode(_claims(accounts.admin.id), "not the server's key " * 3, algorithm="HS256")
    _assert_401(client, token)


def test_an_expired_token_is_rejected(client: Client, accounts: Accounts,
                                      api_env: dict[str, str]) -> None:
    key = api_env["TRAIL_SECRET_KEY"]
    expired = _claims(accounts.admin.id, iat=int(time.time()) - 3600,
                      exp=int(time.time()) - 1800)
    _assert_401(client, jwt.encode(expired, key, algorithm="HS256"))


def test_a_correctly_signed_token_is_accepted(client: Client, accounts: Accounts,
                                              api_env: dict[str, str]) -> None:
    token = jwt.encode(_claims(accounts.admin.id), api_env["TRAIL_SECRET_KEY"],
                       algorithm="HS256")
    assert client.get("/me", token).status_code == 200


def test_a_tampered_payload_is_rejected(client: Client, accounts: Accounts) -> None:
    header, _, signature = accounts.reporter.token.split(".")
    forged = f"{header}.{_b64(_claims(accounts.admin.id))}.{signature}"
    _assert_401(client, forged)


def test_a_tampered_signature_is_rejected(client: Client, accounts: Accounts) -> None:
    token = accounts.admin.token
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    _assert_401(client, flipped)


@pytest.mark.parametrize("missing", ["sub", "iat", "exp", "jti"])
def test_a_token_without_a_required_claim_is_rejected(client: Client, accounts: Accounts,
                                                      api_env: dict[str, str],
                                                      missing: str) -> None:
    claims = _claims(accounts.admin.id)
    del claims[missing]
    _assert_401(client, jwt.encode(claims, api_env["TRAIL_SECRET_KEY"], algorithm="HS256"))


@pytest.mark.parametrize("subject", ["not-a-uuid", str(uuid.uuid4())])
def test_a_token_for_no_user_is_rejected(client: Client, api_env: dict[str, str],
                                         subject: str) -> None:
    token = jwt.encode(_claims(subject), api_env["TRAIL_SECRET_KEY"], algorithm="HS256")
    _assert_401(client, token)


@pytest.mark.parametrize("authorization", ["", "Bearer", "Basic YWRhOnB3",
                                           "Token abc", "Bearer a.b.c"])
def test_malformed_authorization_headers_are_401(client: Client, authorization: str) -> None:
    response = client.http.get("/me", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_other_algorithms_are_rejected(client: Client, accounts: Accounts,
                                       api_env: dict[str, str]) -> None:
    token = jwt.encode(_claims(accounts.admin.id), api_env["TRAIL_SECRET_KEY"],
                       algorithm="HS512")
    _assert_401(client, token)


def test_token_claims(client: Client, accounts: Accounts, api_env: dict[str, str]) -> None:
    claims = jwt.decode(accounts.reporter.token, api_env["TRAIL_SECRET_KEY"],
                        algorithms=["HS256"])
    assert claims["sub"] == accounts.reporter.id
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["jti"]


def _signed(api_env: dict[str, str], claims: dict[str, Any]) -> str:
    return jwt.encode(claims, api_env["TRAIL_SECRET_KEY"], algorithm="HS256")


def test_a_token_issued_in_the_second_of_a_password_reset_but_before_it_dies_with_it(
    client: Client, api_env: dict[str, str], app: Commands
) -> None:
    user = client.register("Same Second", "same.second@example.com")
    found = app.accounts.start_password_reset("same.second@example.com")
    assert found is not None
    app.accounts.finish_password_reset(found[1], "a whole new one 7")
    changed = app.accounts.user(uuid.UUID(user["id"])).password_changed_at
    assert changed is not None
    second, at_us = int(changed.timestamp()), (changed - EPOCH) // timedelta(microseconds=1)
    # Issued within the second of the change: 1 µs before it, and 1 µs after it.
    before = _claims(user["id"], iat=second, iat_us=at_us - 1)
    after = _claims(user["id"], iat=second, iat_us=at_us + 1)
    _assert_401(client, _signed(api_env, before))
    assert client.get("/me", _signed(api_env, after)).status_code == 200
    # A token of an earlier Trail knows only its second: that second no longer saves it.
    legacy = _claims(user["id"], iat=second)
    _assert_401(client, _signed(api_env, legacy))
    # A fresh login right after the reset works, in whatever second it falls.
    assert client.get("/me", client.login("same.second@example.com", "a whole new one 7")
                      ).status_code == 200


def test_issued_tokens_carry_the_moment_to_the_microsecond() -> None:
    moment = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=123456)
    issuer = TokenIssuer("k" * 48, timedelta(minutes=30), clock=lambda: moment)
    _, issued, _ = issuer.claims(issuer.issue(uuid.uuid4()))
    assert issued == moment


def test_deactivation_stops_earlier_tokens_at_once(client: Client, accounts: Accounts) -> None:
    user = client.register("Short Timer", "short.timer@example.com")
    token = client.login("short.timer@example.com")
    assert client.get("/me", token).status_code == 200
    response = client.patch(f"/users/{user['id']}", accounts.admin.token,
                            json={"status": "deactivated"})
    assert response.status_code == 200
    _assert_401(client, token)
    login = client.post("/auth/token", json={"email": "short.timer@example.com",
                                             "password": PASSWORD})
    assert login.status_code == 401
    client.patch(f"/users/{user['id']}", accounts.admin.token, json={"status": "active"})
    assert client.get("/me", token).status_code == 200


def test_a_role_change_applies_to_the_next_request(client: Client, accounts: Accounts) -> None:
    user = client.register("Promoted Person", "promoted@example.com")
    token = client.login("promoted@example.com")
    assert client.get("/users", token).status_code == 403
    client.patch(f"/users/{user['id']}", accounts.admin.token, json={"role": "admin"})
    assert client.get("/users", token).status_code == 200
    client.patch(f"/users/{user['id']}", accounts.admin.token, json={"role": "reporter"})
    assert client.get("/users", token).status_code == 403


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_remembered_token_still_expires() -> None:
    clock = _Clock()
    issuer = TokenIssuer("k" * 64, timedelta(minutes=30), clock)
    user_id = uuid.uuid4()
    token = issuer.issue(user_id)
    assert issuer.subject(token) == user_id
    assert issuer.subject(token) == user_id
    clock.now += timedelta(minutes=31)
    with pytest.raises(Problem) as raised:
        issuer.subject(token)
    assert raised.value.status == 401


def test_only_the_exact_token_is_remembered() -> None:
    issuer = TokenIssuer("k" * 64, timedelta(minutes=30))
    token = issuer.issue(uuid.uuid4())
    issuer.subject(token)
    with pytest.raises(Problem):
        issuer.subject(token[:-1] + ("A" if token[-1] != "A" else "B"))
