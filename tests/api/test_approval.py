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
