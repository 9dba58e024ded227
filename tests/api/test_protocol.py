"""HTTP-level rules: problem documents, content types, sizes, unknown routes, positions."""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.test_fields import assert_invalid, assert_problem


def test_malformed_json_is_400(client: Client, accounts: Accounts) -> None:
    for body in (b"{", b"{'a': 1}", b"\xff\xfe", b""):
        response = client.post("/projects", accounts.admin.token, content=body,
                               headers={"Content-Type": "application/json"})
        assert_problem(response, 400)


def test_a_body_that_is_not_an_object_is_422(client: Client, accounts: Accounts) -> None:
    response = client.post("/projects", accounts.admin.token, json=["name"])
    assert_invalid(response, "body")


def test_wrong_content_type_is_415(client: Client, accounts: Accounts) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = client.post("/projects", accounts.admin.token, content=b'{"name": "Nope"}',
                               headers={"Content-Type": content_type})
        assert_problem(response, 415)
    charset = client.post("/projects", accounts.admin.token, content=b'{"name": "Charset ok"}',
                          headers={"Content-Type": "application/json; charset=utf-8"})
    assert charset.status_code == 201


def test_a_body_over_1_mib_is_413(client: Client, accounts: Accounts,
                                  project: dict[str, Any]) -> None:
    body = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    for headers in ({}, {"Idempotency-Key": "big-body"}):
        response = client.post("/tickets", accounts.developer.token, content=body,
                               headers={"Content-Type": "application/json", **headers})
        assert_problem(response, 413)


def test_unknown_route_is_404_and_wrong_method_405_as_problems(client: Client,
                                                               accounts: Accounts) -> None:
    assert_problem(client.get("/nowhere", accounts.admin.token), 404)
    response = client.delete("/tickets", accounts.admin.token)
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_problems_never_show_internals(client: Client, accounts: Accounts) -> None:
    response = client.get("/tickets?q=" + "%27%3B%20DROP%20TABLE%20x%3B--", accounts.admin.token)
    assert response.status_code == 200
    problem = client.get("/tickets?limit=-5", accounts.admin.token).json()
    assert "Traceback" not in str(problem) and "SELECT" not in str(problem)


def test_every_command_answers_trail_position(client: Client, accounts: Accounts,
                                              project: dict[str, Any]) -> None:
    admin, dev = accounts.admin.token, accounts.developer
    answers = [
        client.post("/auth/register", json={"name": "Pos Itioned", "email": "pos@example.com",
                                            "password": "positioned 42"}),
        client.patch(f"/users/{accounts.reporter.id}", admin, json={"name": "Rita Again"}),
        client.post("/projects", admin, json={"name": "Positioned"}),
        client.put(f"/projects/{project['id']}", admin,
                   json={"name": project["name"], "description": "positioned"}),
    ]
    ticket = new_ticket(client, dev.token, project["id"])
    path = f"/tickets/{ticket['id']}"
    answers += [
        client.patch(path, dev.token, json={"title": "positioned"}),
        client.put(f"{path}/assignees", dev.token, json={"user_ids": [dev.id]}),
        client.post(f"{path}/comments", dev.token, json={"body": "here"}),
    ]
    positions = [int(a.headers["trail-position"]) for a in answers]
    assert all(a.status_code in {200, 201} for a in answers)
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_min_position_waits_for_the_read_models(client: Client, accounts: Accounts,
                                                project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    response = client.http.post("/tickets", json={"project_id": project["id"], "title": "ryw"},
                                headers={"Authorization": f"Bearer {dev}"})
    position = response.headers["trail-position"]
    ticket_id = response.json()["id"]
    read = client.http.get(f"/tickets/{ticket_id}", headers={
        "Authorization": f"Bearer {dev}", "Trail-Min-Position": position})
    assert read.status_code == 200 and read.json()["id"] == ticket_id
    listed = client.http.get(f"/tickets?project_id={project['id']}", headers={
        "Authorization": f"Bearer {dev}", "Trail-Min-Position": position})
    assert ticket_id in {t["id"] for t in listed.json()["items"]}


def test_min_position_beyond_the_head_of_the_log_is_422_at_once(
        client: Client, accounts: Accounts) -> None:
    # No command answered it, so no client can have it (the 503 after 5 s of a position within
    # the head is tests/api/test_min_position.py's).
    started = time.monotonic()
    response = client.http.get("/tickets", headers={
        "Authorization": f"Bearer {accounts.admin.token}", "Trail-Min-Position": "999999999"})
    assert_invalid(response, "Trail-Min-Position")
    assert time.monotonic() - started < 2


def test_min_position_that_is_not_a_position_is_422(client: Client, accounts: Accounts) -> None:
    for value in ("-1", "soon"):
        started = time.monotonic()
        response = client.http.get("/tickets", headers={
            "Authorization": f"Bearer {accounts.admin.token}", "Trail-Min-Position": value})
        assert_invalid(response, "Trail-Min-Position")
        assert time.monotonic() - started < 2


def test_etag_on_every_ticket_answer(client: Client, accounts: Accounts,
                                     project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"])
    path = f"/tickets/{ticket['id']}"
    assert client.get(path, dev).headers["etag"] == '"1"'
    assert client.patch(path, dev, json={"title": "v2"}).headers["etag"] == '"2"'
    assert client.get(f"{path}?version=1", dev).headers["etag"] == '"1"'
    assert client.put(f"{path}/assignees", dev, json={"user_ids": []}).headers["etag"] == '"3"'


def test_schema_lists_every_path_of_the_contract(client: Client) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    contract = {
        "/auth/register": {"post"}, "/auth/token": {"post"}, "/auth/password-reset": {"post"},
        "/auth/password-reset/confirm": {"post"}, "/me": {"get"}, "/users": {"get"},
        "/users/{user_id}": {"get", "patch"}, "/projects": {"get", "post"},
        "/projects/{project_id}": {"get", "put", "delete"}, "/tickets": {"get", "post"},
        "/tickets/{ticket_id}": {"get", "patch"}, "/tickets/{ticket_id}/assignees": {"put"},
        "/tickets/{ticket_id}/comments": {"get", "post"},
        "/tickets/{ticket_id}/comments/{comment_id}": {"patch"},
        "/tickets/{ticket_id}/history": {"get"}, "/events": {"get"},
        "/events/stream": {"get"}, "/stats": {"get"}, "/health": {"get"},
        "/admin/emails": {"get"}, "/admin/emails/{email_id}/retry": {"post"}, "/docs": {"get"},
        "/me/tokens": {"get", "post"}, "/me/tokens/{token_id}": {"get", "delete"},
        "/webhooks": {"get", "post"}, "/webhooks/{webhook_id}": {"get", "patch", "delete"},
        "/webhooks/{webhook_id}/deliveries": {"get"},
        "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": {"post"},
        "/webhooks/{webhook_id}/replay": {"post"},
        "/livez": {"get"}, "/readyz": {"get"}, "/metrics": {"get"},
        "/tickets/{ticket_id}/links": {"get", "post"},
        "/tickets/{ticket_id}/links/{link_id}": {"delete"},
        "/teams": {"get", "post"}, "/teams/{team_id}": {"get", "patch"},
        "/teams/{team_id}/members": {"put"},
        "/tickets/{ticket_id}/attachments": {"get", "post"},
        "/attachments/{attachment_id}": {"get", "delete"},
        "/tickets/{ticket_id}/watchers/me": {"put", "delete"},
        "/tickets/{ticket_id}/watchers": {"get"}, "/notifications": {"get"},
        "/notifications/unread-count": {"get"},
        "/notifications/{notification_id}/read": {"post"}, "/notifications/read-all": {"post"},
        "/me/preferences": {"get", "patch"}, "/tickets/{ticket_id}/messages": {"get", "post"},
        "/tickets/{ticket_id}/messages/{message_id}": {"get"}, "/ws": {"get"},
    }
    assert {path: set(methods) for path, methods in paths.items()} == contract
    for path, methods in paths.items():
        for method, operation in methods.items():
            if path not in {"/docs", "/health", "/livez", "/readyz", "/metrics", "/ws"}:
                problem = operation["responses"]["422" if "422" in operation["responses"]
                                                  else "401"]
                assert "application/problem+json" in problem["content"], (method, path)
