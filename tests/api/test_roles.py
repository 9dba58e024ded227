"""Role by endpoint: what admin, developer and reporter each get from every endpoint.

A reporter sees (and comments on) only the tickets it reported or is assigned to; anything on
another ticket is 404, not 403. On a ticket it sees, changing status, priority or assignees is
403. Admin-only endpoints are 403 for the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import Account, Accounts, Client, new_ticket

ROLES = ("admin", "developer", "reporter")


@dataclass
class World:
    client: Client
    accounts: Accounts
    project: dict[str, Any]
    hidden: dict[str, Any]
    """A ticket the reporter neither reported nor is assigned to."""

    def account(self, role: str) -> Account:
        account: Account = getattr(self.accounts, role)
        return account

    def visible_ticket(self) -> dict[str, Any]:
        """A fresh ticket reported by the reporter: every role may see it."""
        return new_ticket(self.client, self.accounts.reporter.token, self.project["id"])

    def comment(self, ticket_id: str, token: str) -> dict[str, Any]:
        response = self.client.post(f"/tickets/{ticket_id}/comments", token,
                                    json={"body": "a comment"})
        assert response.status_code == 201, response.text
        comment: dict[str, Any] = response.json()
        return comment


Call = Callable[[World, str], httpx.Response]


def _get(path: Callable[[World, str], str]) -> Call:
    return lambda w, role: w.client.get(path(w, role), w.account(role).token)


def _patch_ticket(body: dict[str, Any]) -> Call:
    def call(w: World, role: str) -> httpx.Response:
        ticket = w.visible_ticket()
        return w.client.patch(f"/tickets/{ticket['id']}", w.account(role).token, json=body)
    return call


_project_counter = iter(range(1_000_000))


def _archive(w: World, role: str) -> httpx.Response:
    created = w.client.post("/projects", w.accounts.admin.token,
                            json={"name": f"Archivable {next(_project_counter)}"})
    return w.client.delete(f"/projects/{created.json()['id']}", w.account(role).token)


def _edit_own_comment(w: World, role: str) -> httpx.Response:
    ticket = w.visible_ticket()
    token = w.account(role).token
    comment = w.comment(ticket["id"], token)
    return w.client.patch(f"/tickets/{ticket['id']}/comments/{comment['id']}", token,
                          json={"body": "rewritten"})


def _edit_others_comment(w: World, role: str) -> httpx.Response:
    ticket = w.visible_ticket()
    author = w.accounts.developer if role == "reporter" else w.accounts.reporter
    comment = w.comment(ticket["id"], author.token)
    return w.client.patch(f"/tickets/{ticket['id']}/comments/{comment['id']}",
                          w.account(role).token, json={"body": "not my words"})


def _retry_email(w: World, role: str) -> httpx.Response:
    developer = w.accounts.developer
    ticket = new_ticket(w.client, developer.token, w.project["id"], assignee_ids=[developer.id])
    emails = w.client.get(f"/admin/emails?ticket_id={ticket['id']}", w.accounts.admin.token)
    email_id = emails.json()["items"][0]["id"]
    return w.client.post(f"/admin/emails/{email_id}/retry", w.account(role).token)


def _stream(w: World, role: str) -> httpx.Response:
    with w.client.http.stream("GET", "/events/stream", headers={
        "Authorization": f"Bearer {w.account(role).token}"}) as response:
        return response


MATRIX: dict[str, tuple[Call, tuple[int, int, int]]] = {
    "GET /me": (_get(lambda w, r: "/me"), (200, 200, 200)),
    "GET /users": (_get(lambda w, r: "/users"), (200, 403, 403)),
    "GET /users/{self}": (_get(lambda w, r: f"/users/{w.account(r).id}"), (200, 200, 200)),
    "GET /users/{other}": (_get(lambda w, r: f"/users/{w.accounts.other_reporter.id}"),
                           (200, 200, 200)),
    "GET /users?assignable=true": (_get(lambda w, r: "/users?assignable=true"), (200, 200, 403)),
    "PATCH /users/{self} name": (
        lambda w, r: w.client.patch(f"/users/{w.account(r).id}", w.account(r).token,
                                    json={"name": f"Renamed {r}"}), (200, 200, 200)),
    "PATCH /users/{other} name": (
        lambda w, r: w.client.patch(f"/users/{w.accounts.other_reporter.id}",
                                    w.account(r).token, json={"name": "Someone Else"}),
        (200, 403, 403)),
    "PATCH /users/{other} status": (
        lambda w, r: w.client.patch(f"/users/{w.accounts.other_reporter.id}",
                                    w.account(r).token, json={"status": "active"}),
        (200, 403, 403)),
    "POST /projects": (
        lambda w, r: w.client.post("/projects", w.account(r).token,
                                   json={"name": f"Matrix {r} {next(_project_counter)}"}),
        (201, 403, 403)),
    "GET /projects": (_get(lambda w, r: "/projects"), (200, 200, 200)),
    "GET /projects/{id}": (_get(lambda w, r: f"/projects/{w.project['id']}"), (200, 200, 200)),
    "PUT /projects/{id}": (
        lambda w, r: w.client.put(f"/projects/{w.project['id']}", w.account(r).token,
                                  json={"name": "Trail Core", "description": r}),
        (200, 403, 403)),
    "DELETE /projects/{id}": (_archive, (204, 403, 403)),
    "POST /tickets": (
        lambda w, r: w.client.post("/tickets", w.account(r).token,
                                   json={"project_id": w.project["id"], "title": "Matrix"}),
        (201, 201, 201)),
    "POST /tickets with assignees": (
        lambda w, r: w.client.post("/tickets", w.account(r).token, json={
            "project_id": w.project["id"], "title": "Matrix",
            "assignee_ids": [w.accounts.developer.id]}),
        (201, 201, 403)),
    "GET /tickets": (_get(lambda w, r: "/tickets"), (200, 200, 200)),
    "GET /tickets/{visible}": (_get(lambda w, r: f"/tickets/{w.visible_ticket()['id']}"),
                               (200, 200, 200)),
    "GET /tickets/{hidden}": (_get(lambda w, r: f"/tickets/{w.hidden['id']}"),
                              (200, 200, 404)),
    "GET /tickets/{hidden}?version=1": (
        _get(lambda w, r: f"/tickets/{w.hidden['id']}?version=1"), (200, 200, 404)),
    "PATCH /tickets/{visible} title": (_patch_ticket({"title": "Edited"}), (200, 200, 200)),
    "PATCH /tickets/{visible} type": (_patch_ticket({"type": "task"}), (200, 200, 200)),
    "PATCH /tickets/{visible} status": (_patch_ticket({"status": "in_progress"}),
                                        (200, 200, 403)),
    "PATCH /tickets/{visible} priority": (_patch_ticket({"priority": "urgent"}),
                                          (200, 200, 403)),
    "PATCH /tickets/{hidden} title": (
        lambda w, r: w.client.patch(f"/tickets/{w.hidden['id']}", w.account(r).token,
                                    json={"title": "Peek"}), (200, 200, 404)),
    "PUT /tickets/{visible}/assignees": (
        lambda w, r: w.client.put(f"/tickets/{w.visible_ticket()['id']}/assignees",
                                  w.account(r).token, json={"user_ids": []}),
        (200, 200, 403)),
    "PUT /tickets/{hidden}/assignees": (
        lambda w, r: w.client.put(f"/tickets/{w.hidden['id']}/assignees",
                                  w.account(r).token, json={"user_ids": []}),
        (200, 200, 404)),
    "POST /tickets/{visible}/comments": (
        lambda w, r: w.client.post(f"/tickets/{w.visible_ticket()['id']}/comments",
                                   w.account(r).token, json={"body": "hi"}), (201, 201, 201)),
    "POST /tickets/{hidden}/comments": (
        lambda w, r: w.client.post(f"/tickets/{w.hidden['id']}/comments",
                                   w.account(r).token, json={"body": "hi"}), (201, 201, 404)),
    "GET /tickets/{visible}/comments": (
        _get(lambda w, r: f"/tickets/{w.visible_ticket()['id']}/comments"), (200, 200, 200)),
    "GET /tickets/{hidden}/comments": (
        _get(lambda w, r: f"/tickets/{w.hidden['id']}/comments"), (200, 200, 404)),
    "PATCH own comment": (_edit_own_comment, (200, 200, 200)),
    "PATCH someone else's comment": (_edit_others_comment, (403, 403, 403)),
    "GET /tickets/{visible}/history": (
        _get(lambda w, r: f"/tickets/{w.visible_ticket()['id']}/history"), (200, 200, 200)),
    "GET /tickets/{hidden}/history": (
        _get(lambda w, r: f"/tickets/{w.hidden['id']}/history"), (200, 200, 404)),
    "GET /events": (_get(lambda w, r: "/events"), (200, 403, 403)),
    "GET /events/stream": (_stream, (200, 200, 200)),
    "GET /stats": (_get(lambda w, r: "/stats"), (200, 200, 403)),
    "GET /admin/emails": (_get(lambda w, r: "/admin/emails"), (200, 403, 403)),
    "POST /admin/emails/{id}/retry": (_retry_email, (202, 403, 403)),
}


@pytest.fixture(scope="module")
def world(client: Client, accounts: Accounts, project: dict[str, Any]) -> World:
    hidden = new_ticket(client, accounts.developer.token, project["id"])
    return World(client, accounts, project, hidden)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_role_gets_the_expected_status(world: World, endpoint: str, role: str) -> None:
    call, expected = MATRIX[endpoint]
    response = call(world, role)
    body = "" if endpoint.endswith("stream") else response.text
    assert response.status_code == expected[ROLES.index(role)], f"{role} {endpoint}: {body}"


def test_without_a_token_every_endpoint_but_the_public_ones_is_401(client: Client) -> None:
    schema = client.get("/schema/openapi.json").json()
    # `/ws` authenticates its WebSocket by the first message; a plain GET of it is 426.
    public = {"/auth/register", "/auth/token", "/auth/password-reset",
              "/auth/password-reset/confirm", "/health", "/docs", "/livez", "/readyz",
              "/metrics", "/ws"}
    for path, operations in schema["paths"].items():
        if path in public:
            continue
        concrete = path.replace("{", "").replace("}", "")
        for name in ("ticket_id", "project_id", "user_id", "comment_id", "email_id", "token_id",
                     "webhook_id", "delivery_id", "team_id", "link_id", "attachment_id",
                     "notification_id", "message_id"):
            concrete = concrete.replace(name, "00000000-0000-4000-8000-000000000000")
        for method in operations:
            response = client.http.request(method.upper(), concrete)
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            assert response.headers["www-authenticate"] == "Bearer"
