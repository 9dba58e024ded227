"""Idempotency-Key on POST: a retry gets the first answer, never a second effect."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from commands.services import Commands
from tests.api.conftest import Accounts, Client
from tests.api.test_fields import assert_invalid, assert_problem


def _create(client: Client, token: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return client.post("/tickets", token, json=body, headers={"Idempotency-Key": key})


def test_a_retry_replays_the_first_answer(client: Client, accounts: Accounts,
                                          project: dict[str, Any]) -> None:
    key = str(uuid.uuid4())
    body = {"project_id": project["id"], "title": "Exactly once"}
    first = _create(client, accounts.developer.token, key, body)
    again = _create(client, accounts.developer.token, key, body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["trail-position"] == first.headers["trail-position"]
    assert again.headers["idempotent-replayed"] == "true"
    titled = client.get("/tickets?q=%22Exactly%20once%22", accounts.developer.token).json()
    assert len(titled["items"]) == 1


def test_the_same_key_with_another_body_is_422(client: Client, accounts: Accounts,
                                               project: dict[str, Any]) -> None:
    key = str(uuid.uuid4())
    _create(client, accounts.developer.token, key, {"project_id": project["id"], "title": "A"})
    response = _create(client, accounts.developer.token, key,
                       {"project_id": project["id"], "title": "B"})
    assert_invalid(response, "Idempotency-Key")


def test_keys_are_scoped_to_the_caller(client: Client, accounts: Accounts,
                                       project: dict[str, Any]) -> None:
    key = str(uuid.uuid4())
    body = {"project_id": project["id"], "title": "Scoped"}
    mine = _create(client, accounts.developer.token, key, body)
    theirs = _create(client, accounts.admin.token, key, body)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_an_error_answer_is_replayed_too(client: Client, accounts: Accounts) -> None:
    key = str(uuid.uuid4())
    body = {"project_id": str(uuid.uuid4()), "title": "No such project"}
    first = _create(client, accounts.developer.token, key, body)
    again = _create(client, accounts.developer.token, key, body)
    assert first.status_code == again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"


def test_concurrent_duplicates_make_one_effect(client: Client, accounts: Accounts) -> None:
    key = str(uuid.uuid4())
    body = {"name": "Twice Sent", "email": "twice@example.com", "password": "twice sent 22"}

    def send(_: int) -> httpx.Response:
        return client.http.post("/auth/register", json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(send, range(4)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and statuses[0] == 201, statuses
    ids = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(ids) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409)
    client.position = max(int(a.headers["trail-position"]) for a in answers
                          if a.status_code == 201)
    found = client.get("/users?q=twice@example.com", accounts.admin.token).json()["items"]
    assert len(found) == 1


def test_token_answers_are_never_stored(client: Client, accounts: Accounts) -> None:
    key = str(uuid.uuid4())
    body = {"email": accounts.reporter.email, "password": "correct horse 9"}
    first = client.post("/auth/token", json=body, headers={"Idempotency-Key": key})
    again = client.post("/auth/token", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert first.json()["access_token"] != again.json()["access_token"]


def test_a_malformed_key_is_422(client: Client, accounts: Accounts,
                                project: dict[str, Any]) -> None:
    response = _create(client, accounts.developer.token, "x" * 256,
                       {"project_id": project["id"], "title": "Bad key"})
    assert_invalid(response, "Idempotency-Key")


def test_a_replay_first_checks_the_caller(client: Client, accounts: Accounts,
                                          project: dict[str, Any], app: Commands) -> None:
    """A stored answer goes only to a caller that may still act: not to a deactivated
    account, nor to a token a password reset voided."""
    for lost in ("deactivated", "reset"):
        address = f"replay.{lost}@example.com"
        user = client.register(f"Replay {lost.title()}", address)
        client.patch(f"/users/{user['id']}", accounts.admin.token, json={"role": "developer"})
        token = client.login(address)
        key = str(uuid.uuid4())
        body = {"project_id": project["id"], "title": f"Replayed to {lost}"}
        assert _create(client, token, key, body).status_code == 201
        if lost == "deactivated":
            client.patch(f"/users/{user['id']}", accounts.admin.token,
                         json={"status": "deactivated"})
        else:
            found = app.accounts.start_password_reset(address)
            assert found is not None
            app.accounts.finish_password_reset(found[1], "a whole new one 7")
        again = _create(client, token, key, body)
        assert_problem(again, 401)
        assert "idempotent-replayed" not in again.headers
