"""API tokens (API.md "API tokens"): issued with the secret shown once, listed without it,
revoked at once; a token acts with its user's current role and status; stored hashed."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest

from tests.api.conftest import Accounts, Client


def _issue(client: Client, token: str, **body: Any) -> dict[str, Any]:
    response = client.post("/me/tokens", token, json={"name": "ci", **body})
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def _as_user(client: Client, admin_token: str, email: str) -> tuple[str, str]:
    """A fresh reporter (id, access token)."""
    user = client.register("Tess Token", email)
    return user["id"], client.login(email)


def test_issue_shows_the_secret_once_and_the_token_acts_as_its_user(
    client: Client, accounts: Accounts
) -> None:
    response = client.post("/me/tokens", accounts.developer.token,
                           json={"name": "  deploy bot  ", "expires_in_days": 30})
    assert response.status_code == 201, response.text
    issued = response.json()
    assert set(issued) == {"id", "name", "token", "created_at", "expires_at"}
    assert issued["name"] == "deploy bot"
    assert issued["token"].startswith("trail_pat_") and len(issued["token"]) > 40
    assert issued["expires_at"] is not None
    assert response.headers["location"] == f"/me/tokens/{issued['id']}"
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["trail-position"]) > 0

    me = client.get("/me", issued["token"])
    assert me.status_code == 200, me.text
    assert me.json()["id"] == accounts.developer.id

    listed = client.get("/me/tokens", accounts.developer.token).json()["items"]
    mine = next(t for t in listed if t["id"] == issued["id"])
    assert "token" not in mine
    assert set(mine) == {"id", "name", "created_at", "expires_at", "last_used_at"}
    assert mine["last_used_at"] is not None
    one = client.get(f"/me/tokens/{issued['id']}", accounts.developer.token)
    assert one.status_code == 200 and one.json() == mine


def test_no_expiry_by_default(client: Client, accounts: Accounts) -> None:
    issued = _issue(client, accounts.reporter.token)
    assert issued["expires_at"] is None


def test_a_token_is_stored_as_its_digest_and_its_events_hold_no_secret(
    client: Client, accounts: Accounts, scratch_database_url: str
) -> None:
    issued = _issue(client, accounts.admin.token, name="audited")
    with psycopg.connect(scratch_database_url) as conn:
        row = conn.execute("SELECT digest FROM api_tokens WHERE id = %s", (issued["id"],)
                           ).fetchone()
        assert row == (hashlib.sha256(issued["token"].encode()).hexdigest(),)
        leaks = conn.execute(
            "SELECT count(*) FROM trail_events WHERE position(%s::bytea IN state) > 0",
            (issued["token"].encode(),),
        ).fetchone()
        assert leaks == (0,)
    events = client.get("/events?type=ApiTokens.Issued&limit=100", accounts.admin.token).json()
    entry = next(e for e in events["items"] if e["data"]["token_id"] == issued["id"])
    assert entry["data"]["name"] == "audited"
    assert entry["actor_id"] == accounts.admin.id


def test_a_token_has_the_users_current_role(client: Client, accounts: Accounts) -> None:
    user_id, access = _as_user(client, accounts.admin.token, "role-change@example.com")
    token = _issue(client, access)["token"]
    assert client.get("/users?assignable=true", token).status_code == 403
    promoted = client.patch(f"/users/{user_id}", accounts.admin.token,
                            json={"role": "developer"})
    assert promoted.status_code == 200
    assert client.get("/users?assignable=true", token).status_code == 200


def test_a_deactivated_users_tokens_answer_401_and_work_again_when_reactivated(
    client: Client, accounts: Accounts
) -> None:
    user_id, access = _as_user(client, accounts.admin.token, "deactivated@example.com")
    kept = _issue(client, access, name="kept")["token"]
    revoked = _issue(client, access, name="revoked")
    assert client.patch(f"/users/{user_id}", accounts.admin.token,
                        json={"status": "deactivated"}).status_code == 200
    response = client.get("/me", kept)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"

    assert client.patch(f"/users/{user_id}", accounts.admin.token,
                        json={"status": "active"}).status_code == 200
    assert client.get("/me", kept).status_code == 200
    # Revoked while the account was active again: refused from then on, whatever happens.
    assert client.delete(f"/me/tokens/{revoked['id']}", kept).status_code == 204
    assert client.get("/me", revoked["token"]).status_code == 401


def test_revoke_is_refused_at_once_and_only_for_the_owner(
    client: Client, accounts: Accounts
) -> None:
    issued = _issue(client, accounts.developer.token)
    assert client.get("/me", issued["token"]).status_code == 200
    # Someone else's token is no token of theirs.
    assert client.delete(f"/me/tokens/{issued['id']}", accounts.reporter.token).status_code == 404
    response = client.delete(f"/me/tokens/{issued['id']}", accounts.developer.token)
    assert response.status_code == 204
    assert "trail-position" in response.headers
    assert client.get("/me", issued["token"]).status_code == 401
    assert client.delete(f"/me/tokens/{issued['id']}", accounts.developer.token).status_code == 404
    listed = client.get("/me/tokens", accounts.developer.token).json()["items"]
    assert issued["id"] not in {t["id"] for t in listed}
    assert client.get(f"/me/tokens/{issued['id']}", accounts.developer.token).status_code == 404


def test_an_expired_token_answers_401(
    client: Client, accounts: Accounts, scratch_database_url: str
) -> None:
    issued = _issue(client, accounts.reporter.token, expires_in_days=1)
    assert client.get("/me", issued["token"]).status_code == 200
    # A day passes for this token.
    with psycopg.connect(scratch_database_url, autocommit=True) as conn:
        conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                     "WHERE id = %s", (issued["id"],))
    assert client.get("/me", issued["token"]).status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "tab\tinside"}, "name"),
        ({"name": "ci\u2028bot"}, "name"),
        ({"name": "\u200b\u200e"}, "name"),
        ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "30"}, "expires_in_days"),
        ({"name": "ok", "scopes": ["all"]}, "scopes"),
        ({}, "name"),
    ],
)
def test_invalid_requests_are_422_naming_the_field(
    client: Client, accounts: Accounts, body: dict[str, Any], field: str
) -> None:
    response = client.post("/me/tokens", accounts.reporter.token, json=body)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


def test_limits_of_name_and_days_are_accepted(client: Client, accounts: Accounts) -> None:
    assert _issue(client, accounts.reporter.token, name="x" * 100, expires_in_days=365)
    assert _issue(client, accounts.reporter.token, name="émoji 🚀", expires_in_days=1)


def test_bad_tokens_are_401(client: Client, accounts: Accounts) -> None:
    for token in ("trail_pat_", "trail_pat_" + "A" * 43, "trail_pat_'; DROP TABLE x; --"):
        response = client.get("/me", token)
        assert response.status_code == 401, (token, response.text)
    assert client.get("/me/tokens").status_code == 401


def test_a_user_holds_at_most_50_live_tokens(client: Client, accounts: Accounts) -> None:
    _, access = _as_user(client, accounts.admin.token, "many-tokens@example.com")
    ids = [_issue(client, access, name=f"t{n}")["id"] for n in range(50)]
    response = client.post("/me/tokens", access, json={"name": "one too many"})
    assert response.status_code == 409, response.text
    assert client.delete(f"/me/tokens/{ids[0]}", access).status_code == 204
    assert _issue(client, access, name="room again")


def test_idempotency_keys_work_with_api_tokens_as_callers(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    token = _issue(client, accounts.developer.token)["token"]
    headers = {"Idempotency-Key": "api-token-ticket-1"}
    body = {"project_id": project["id"], "title": "Filed by a script"}
    first = client.post("/tickets", token, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/tickets", token, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    # Scoped to the user, not to the credential: the same user's access token sees the key.
    same_user = client.post("/tickets", accounts.developer.token, json=body, headers=headers)
    assert same_user.json()["id"] == first.json()["id"]


def test_a_retried_issue_never_makes_a_second_token_nor_shows_the_secret_again(
    client: Client, accounts: Accounts
) -> None:
    _, access = _as_user(client, accounts.admin.token, "retry-issue@example.com")
    headers = {"Idempotency-Key": "issue-once"}
    first = client.post("/me/tokens", access, json={"name": "once"}, headers=headers)
    assert first.status_code == 201
    again = client.post("/me/tokens", access, json={"name": "once"}, headers=headers)
    assert again.status_code == 409, again.text
    assert again.headers["location"] == first.headers["location"]
    assert first.json()["token"] not in again.text
    assert len(client.get("/me/tokens", access).json()["items"]) == 1


@pytest.mark.parametrize("role", ["admin", "developer", "reporter"])
def test_every_role_manages_its_own_tokens(
    client: Client, accounts: Accounts, role: str
) -> None:
    access = getattr(accounts, role).token
    issued = _issue(client, access, name=f"{role} token")
    assert client.get("/me/tokens", access).status_code == 200
    assert client.get("/me", issued["token"]).json()["role"] == role
    assert client.delete(f"/me/tokens/{issued['id']}", access).status_code == 204
