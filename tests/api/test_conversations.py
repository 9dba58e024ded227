"""A ticket's conversation over HTTP: private to its reporter and current assignees, for every
role, and out of the ticket's version, history, search and notifications."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Accounts, Client, new_ticket


@pytest.fixture(scope="module")
def worked(client: Client, accounts: Accounts, project: dict[str, Any]) -> dict[str, Any]:
    """A ticket reported by the reporter and assigned to the developer."""
    ticket = new_ticket(client, accounts.reporter.token, project["id"], title="Private talk")
    response = client.put(f"/tickets/{ticket['id']}/assignees", accounts.admin.token,
                          json={"user_ids": [accounts.developer.id]})
    assert response.status_code == 200
    return ticket


def post(client: Client, ticket: dict[str, Any], token: str, body: str) -> Any:
    return client.post(f"/tickets/{ticket['id']}/messages", token, json={"body": body})


def test_participants_talk_and_read_the_whole_conversation(
    client: Client, accounts: Accounts, worked: dict[str, Any]
) -> None:
    first = post(client, worked, accounts.reporter.token, "  Is it fixed?  ")
    assert first.status_code == 201, first.text
    message = first.json()
    assert message["body"] == "Is it fixed?"
    assert message["author"] == {"id": accounts.reporter.id, "name": "Rita Reporter"}
    assert message["ticket_id"] == worked["id"]
    assert set(message) == {"id", "ticket_id", "author", "body", "created_at"}
    assert first.headers["Location"] == f"/tickets/{worked['id']}/messages/{message['id']}"
    assert client.get(first.headers["Location"], accounts.developer.token).json() == message
    reply = post(client, worked, accounts.developer.token, "Tomorrow").json()
    for token in (accounts.reporter.token, accounts.developer.token):
        listed = client.get(f"/tickets/{worked['key']}/messages", token)
        assert listed.status_code == 200
        assert [m["id"] for m in listed.json()["items"]][-2:] == [message["id"], reply["id"]]
    after = client.get(f"/tickets/{worked['id']}/messages", accounts.reporter.token,
                       params={"after": message["id"]})
    assert [m["id"] for m in after.json()["items"]] == [reply["id"]]


def test_everyone_else_gets_404_admins_included(
    client: Client, accounts: Accounts, worked: dict[str, Any]
) -> None:
    message = post(client, worked, accounts.reporter.token, "for us only").json()
    for token in (accounts.admin.token, accounts.other_reporter.token):
        assert post(client, worked, token, "let me in").status_code == 404
        assert client.get(f"/tickets/{worked['id']}/messages", token).status_code == 404
        assert client.get(f"/tickets/{worked['id']}/messages/{message['id']}",
                          token).status_code == 404


def test_a_developer_not_assigned_and_a_removed_assignee_are_out(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    dev = accounts.developer.token
    assert post(client, ticket, dev, "hello?").status_code == 404
    client.put(f"/tickets/{ticket['id']}/assignees", accounts.admin.token,
               json={"user_ids": [accounts.developer.id]})
    assert post(client, ticket, dev, "on it").status_code == 201
    client.put(f"/tickets/{ticket['id']}/assignees", accounts.admin.token,
               json={"user_ids": [accounts.admin.id]})
    assert client.get(f"/tickets/{ticket['id']}/messages", dev).status_code == 404
    assert post(client, ticket, dev, "still here?").status_code == 404
    # The new assignee reads everything said before it joined.
    listed = client.get(f"/tickets/{ticket['id']}/messages", accounts.admin.token)
    assert [m["body"] for m in listed.json()["items"]] == ["on it"]


def test_messages_stay_out_of_the_ticket_history_search_and_notifications(
    client: Client, accounts: Accounts, worked: dict[str, Any]
) -> None:
    before = client.get(f"/tickets/{worked['id']}", accounts.admin.token).json()
    unread = client.get("/notifications/unread-count", accounts.developer.token).json()
    response = post(client, worked, accounts.reporter.token, "zanzibarquux secret")
    position = int(response.headers["Trail-Position"])
    after = client.get(f"/tickets/{worked['id']}", accounts.admin.token).json()
    assert after["version"] == before["version"]
    history = client.get(f"/tickets/{worked['id']}/history", accounts.admin.token).json()
    assert all(entry["type"].startswith("Ticket.") for entry in history["items"])
    search = client.get("/tickets", accounts.admin.token, params={"q": "zanzibarquux"})
    assert search.json()["items"] == []
    assert client.get("/notifications/unread-count",
                      accounts.developer.token).json() == unread
    events = client.get("/events", accounts.admin.token,
                        params={"after": position - 1, "type": "Message.Posted"}).json()
    assert events["items"][0]["data"]["body"] == "zanzibarquux secret"
    assert events["items"][0]["ticket_id"] == worked["id"]


def test_a_body_of_1_to_4000_characters(
    client: Client, accounts: Accounts, worked: dict[str, Any]
) -> None:
    token = accounts.reporter.token
    for body in ("", "   ", "x" * 4001):
        response = post(client, worked, token, body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body"
    assert post(client, worked, token, "x" * 4000).status_code == 201
    response = client.post(f"/tickets/{worked['id']}/messages", token, json={"text": "hi"})
    assert response.status_code == 422
    unknown = client.get(f"/tickets/{worked['id']}/messages", token,
                         params={"after": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "after"


def test_a_team_member_who_sees_the_ticket_does_not_take_part(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    admin = accounts.admin.token
    team = client.post("/teams", admin, json={"name": "Conversation Crew"}).json()
    client.put(f"/teams/{team['id']}/members", admin,
               json={"user_ids": [accounts.other_reporter.id]})
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    assert client.patch(f"/tickets/{ticket['id']}", admin,
                        json={"team_id": team["id"]}).status_code == 200
    member = accounts.other_reporter.token
    assert client.get(f"/tickets/{ticket['id']}", member).status_code == 200
    assert post(client, ticket, member, "may I?").status_code == 404
    assert client.get(f"/tickets/{ticket['id']}/messages", member).status_code == 404
