"""TRAIL_REGISTRATION=approval: later accounts wait for an admin, and cannot log in until then."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD, Client
from tests.api.test_fields import assert_problem


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "TRAIL_REGISTRATION": "approval"}


def test_pending_accounts_get_403_until_approved(client: Client) -> None:
    admin = client.register("First Admin", "first@example.com")
    assert admin["role"] == "admin" and admin["status"] == "active"
    later = client.register("Later Person", "later@example.com")
    assert later["role"] == "reporter" and later["status"] == "pending"
    pending = client.post("/auth/token", json={"email": "later@example.com",
                                               "password": PASSWORD})
    assert_problem(pending, 403)
    wrong = client.post("/auth/token", json={"email": "later@example.com",
                                             "password": "not the password 1"})
    assert_problem(wrong, 401)
    admin_token = client.login("first@example.com")
    waiting = client.get("/users?status=pending", admin_token).json()["items"]
    assert [u["id"] for u in waiting] == [later["id"]]
    approved = client.patch(f"/users/{later['id']}", admin_token, json={"status": "active"})
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert client.get("/me", client.login("later@example.com")).json()["id"] == later["id"]


def test_an_admin_may_set_a_user_back_to_pending(client: Client) -> None:
    """API.md: an admin may set `status` to any of active, pending, deactivated; a pending
    user cannot log in (403) until set active again, and its tokens stop at once."""
    admin_token = client.login("first@example.com")
    user = client.register("Back Pending", "back.pending@example.com")
    client.patch(f"/users/{user['id']}", admin_token, json={"status": "active"})
    token = client.login("back.pending@example.com")
    changed = client.patch(f"/users/{user['id']}", admin_token, json={"status": "pending"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "pending"
    assert client.get(f"/users/{user['id']}", admin_token).json()["status"] == "pending"
    assert_problem(client.get("/me", token), 401)
    assert_problem(client.post("/auth/token", json={"email": "back.pending@example.com",
                                                    "password": PASSWORD}), 403)
    history = client.get("/events?type=User.MadePending", admin_token).json()["items"]
    assert [e["data"]["old_status"] for e in history] == ["active"]
    again = client.patch(f"/users/{user['id']}", admin_token, json={"status": "active"})
    assert again.status_code == 200 and again.json()["status"] == "active"
    assert client.get("/me", client.login("back.pending@example.com")).status_code == 200


def test_an_admin_cannot_set_itself_pending(client: Client) -> None:
    admin_token = client.login("first@example.com")
    me = client.get("/me", admin_token).json()
    assert_problem(client.patch(f"/users/{me['id']}", admin_token, json={"status": "pending"}),
                   403)
