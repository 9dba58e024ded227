"""Ticket keys wherever a ticket id goes, and people embedded as `{id, name}`."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from tests.api.conftest import Accounts, Client, new_ticket
from tests.services import REPO_ROOT


def test_a_ticket_carries_its_key_and_names_its_people(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer
    ticket = new_ticket(client, dev.token, project["id"], assignee_ids=[dev.id, accounts.admin.id])
    assert ticket["key"] == f"{project['key']}-{ticket['number']}"
    assert ticket["reporter"] == {"id": dev.id, "name": "Dev Eloper"}
    assert ticket["assignees"] == [{"id": dev.id, "name": "Dev Eloper"},
                                   {"id": accounts.admin.id, "name": "Ada Admin"}]
    listed = client.get(f"/tickets?project_id={project['id']}&limit=100", dev.token).json()
    [same] = [t for t in listed["items"] if t["id"] == ticket["id"]]
    assert (same["key"], same["reporter"], same["assignees"]) == (
        ticket["key"], ticket["reporter"], ticket["assignees"])


def test_the_key_works_wherever_the_id_does_in_any_case(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer
    ticket = new_ticket(client, dev.token, project["id"])
    key = ticket["key"]
    for ref in (key, key.lower()):
        read = client.get(f"/tickets/{ref}", dev.token)
        assert read.status_code == 200 and read.json()["id"] == ticket["id"]
    edited = client.patch(f"/tickets/{key.lower()}", dev.token, json={"title": "By key"})
    assert edited.status_code == 200 and edited.json()["title"] == "By key"
    comment = client.post(f"/tickets/{key}/comments", dev.token, json={"body": "hello"})
    assert comment.status_code == 201
    assert comment.json()["author"] == {"id": dev.id, "name": "Dev Eloper"}
    comments = client.get(f"/tickets/{key}/comments", dev.token).json()["items"]
    assert [c["author"]["name"] for c in comments] == ["Dev Eloper"]
    history = client.get(f"/tickets/{key}/history", dev.token).json()["items"]
    assert [h["actor"] for h in history] == [{"id": dev.id, "name": "Dev Eloper"}] * 3
    assigned = client.put(f"/tickets/{key}/assignees", dev.token, json={"user_ids": [dev.id]})
    assert assigned.status_code == 200 and assigned.json()["version"] == 4
    assert client.get(f"/tickets/{key}?version=1", dev.token).json()["key"] == key


def test_unknown_or_hidden_keys_look_missing(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    hidden = new_ticket(client, accounts.developer.token, project["id"])
    reporter = accounts.reporter.token
    assert client.get(f"/tickets/{hidden['key']}", reporter).status_code == 404
    assert client.get(f"/tickets/{project['key']}-99999", reporter).status_code == 404
    for ref in ("NOPE-1", "not-a-key", "A-1", "WEB-0"):
        assert client.get(f"/tickets/{ref}", accounts.admin.token).status_code == 404


def test_a_rename_shows_wherever_the_user_is_embedded(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    other = client.register("Nina Renamed", "nina@example.com")
    admin = accounts.admin.token
    client.patch(f"/users/{other['id']}", admin, json={"role": "developer"})
    ticket = new_ticket(client, admin, project["id"], assignee_ids=[other["id"]])
    client.patch(f"/users/{other['id']}", admin, json={"name": "Nina Newname"})
    read = client.get(f"/tickets/{ticket['id']}", admin).json()
    assert read["assignees"] == [{"id": other["id"], "name": "Nina Newname"}]


def test_public_profiles_and_assignable_people(client: Client, accounts: Accounts) -> None:
    reporter, dev = accounts.reporter.token, accounts.developer.token
    profile = client.get(f"/users/{accounts.developer.id}", reporter)
    assert profile.status_code == 200
    assert set(profile.json()) == {"id", "name", "role", "status", "created_at", "updated_at"}
    assignable = client.get("/users?assignable=true&limit=100", dev)
    assert assignable.status_code == 200
    people = assignable.json()["items"]
    assert {p["role"] for p in people} <= {"developer", "admin"}
    assert {accounts.developer.id, accounts.admin.id} <= {p["id"] for p in people}
    assert all("email" not in p for p in people)
    assert client.get("/users?assignable=true", reporter).status_code == 403
    assert client.get("/users", dev).status_code == 403


def test_the_history_command_takes_a_key(
    client: Client, accounts: Accounts, project: dict[str, Any], api_env: dict[str, str]
) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"], title="For auditors")
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "history", ticket["key"].lower()],
        cwd=REPO_ROOT, env={**os.environ, **api_env}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Ticket.Created" in result.stdout and "For auditors" in result.stdout
