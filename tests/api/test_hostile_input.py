"""Input an attacker sends: one-line fields holding line breaks or nothing visible (422 naming
the field), and bodies that are not JSON a parser survives (400, never a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Accounts, Client, new_ticket

# CR/LF, the other line breaks of `str.splitlines` (FS, NEL, U+2028/2029) and other controls.
BREAKERS = ["Fix\r\nFrom : CEO <ceo@bank.test>", "Fix\x1cBcc: x@y.test", "Fix\x85it",
            "Fix\u2028it", "Fix\u2029it", "Fix\x7fit", "Fix\x9bit"]
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("text", [*BREAKERS, INVISIBLE])
def test_every_single_line_field_refuses_line_breaks_and_invisible_text(
    client: Client, accounts: Accounts, project: dict[str, Any], text: str
) -> None:
    admin, reporter = accounts.admin.token, accounts.reporter.token
    ticket = new_ticket(client, reporter, project["id"])
    name = text if text == INVISIBLE else text.replace("Fix", "Fixer")
    titles = [
        client.post("/tickets", reporter, json={"project_id": project["id"], "title": text}),
        client.patch(f"/tickets/{ticket['id']}", reporter, json={"title": text}),
    ]
    names = [
        client.post("/auth/register", json={"name": name, "email": "new@example.com",
                                            "password": "correct horse 9"}),
        client.patch(f"/users/{accounts.reporter.id}", reporter, json={"name": name}),
        client.post("/projects", admin, json={"name": name}),
        client.put(f"/projects/{project['id']}", admin, json={"name": name,
                                                               "description": None}),
        client.post("/teams", admin, json={"name": name}),
        client.post("/me/tokens", reporter, json={"name": text}),
    ]
    for response in titles:
        assert _fields(response) == {"title"}
    for response in names:
        assert _fields(response) == {"name"}


# Every JSON endpoint, the path filled in where it takes an id.
def _json_endpoints(accounts: Accounts, project: dict[str, Any], ticket: dict[str, Any]
                    ) -> list[tuple[str, str, str | None]]:
    admin, reporter = accounts.admin.token, accounts.reporter.token
    t = ticket["id"]
    return [
        ("POST", "/auth/register", None),
        ("POST", "/auth/token", None),
        ("POST", "/auth/password-reset", None),
        ("POST", "/auth/password-reset/confirm", None),
        ("POST", "/tickets", reporter),
        ("PATCH", f"/tickets/{t}", reporter),
        ("PUT", f"/tickets/{t}/assignees", admin),
        ("POST", f"/tickets/{t}/comments", reporter),
        ("POST", f"/tickets/{t}/links", admin),
        ("POST", f"/tickets/{t}/messages", reporter),
        ("PATCH", f"/users/{accounts.reporter.id}", reporter),
        ("POST", "/projects", admin),
        ("PUT", f"/projects/{project['id']}", admin),
        ("POST", "/teams", admin),
        ("POST", "/webhooks", admin),
        ("POST", "/me/tokens", reporter),
        ("PATCH", "/me/preferences", reporter),
        ("POST", "/notifications/read-all", reporter),
    ]


MALFORMED = {
    "nested 1,000 deep": b"[" * 1000 + b"]" * 1000,
    "objects nested 1,000 deep": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "nested 100,000 deep": b"[" * 100_000,
    "invalid UTF-8": b"\xff\xfe",
    "invalid UTF-8 in a string": b'{"title": "\xff\xfe"}',
    "a lone surrogate": b'{"title": "\\udc80"}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_body_no_parser_survives_is_400_on_every_json_endpoint(
    client: Client, accounts: Accounts, project: dict[str, Any], body: bytes
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    for method, path, token in _json_endpoints(accounts, project, ticket):
        response = client.request(method, path, token, content=body,
                                  headers={"Content-Type": "application/json"})
        assert response.status_code in (400, 422), (method, path, response.text)
        assert response.status_code == 400 or b"\\udc80" in body, (method, path, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["status"] == response.status_code and isinstance(problem["detail"], str)
