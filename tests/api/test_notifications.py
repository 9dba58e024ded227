"""Watchers, notifications and email preferences over HTTP, against a real API process."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.api.conftest import Accounts, Client, new_ticket


def notifications(client: Client, token: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/notifications", token, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def unread(client: Client, token: str) -> int:
    response = client.get("/notifications/unread-count", token)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def assign(client: Client, accounts: Accounts, ticket_id: str, *user_ids: str) -> None:
    response = client.put(f"/tickets/{ticket_id}/assignees", accounts.admin.token,
                          json={"user_ids": list(user_ids)})
    assert response.status_code == 200, response.text


def test_watching_is_not_a_change_of_the_ticket(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    path = f"/tickets/{ticket['key']}/watchers"
    for method in ("put", "put", "delete", "put"):
        response = getattr(client, method)(f"{path}/me", accounts.developer.token)
        assert response.status_code == 204, response.text
        assert int(response.headers["Trail-Position"]) > 0
    assert client.get(f"/tickets/{ticket['id']}", accounts.admin.token).json()["version"] == 1
    listed = client.get(path, accounts.reporter.token)
    assert listed.status_code == 200
    assert [w["name"] for w in listed.json()["items"]] == ["Dev Eloper", "Rita Reporter"]
    client.delete(f"{path}/me", accounts.reporter.token)
    assert [w["name"] for w in client.get(path, accounts.admin.token).json()["items"]] == [
        "Dev Eloper"]


def test_watching_a_ticket_one_may_not_see_is_404(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    hidden = new_ticket(client, accounts.developer.token, project["id"])
    token = accounts.reporter.token
    assert client.put(f"/tickets/{hidden['id']}/watchers/me", token).status_code == 404
    assert client.get(f"/tickets/{hidden['id']}/watchers", token).status_code == 404
    assert client.put("/tickets/not-a-ticket/watchers/me", token).status_code == 404


def test_a_watcher_is_notified_of_others_commands_with_what_changed(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    rita = accounts.reporter.token
    before = unread(client, rita)
    ticket = new_ticket(client, rita, project["id"], title="Printer on fire")
    response = client.patch(f"/tickets/{ticket['id']}", accounts.developer.token,
                            json={"status": "in_progress"})
    assert response.status_code == 200
    client.patch(f"/tickets/{ticket['id']}", rita, json={"title": "Printer still on fire"})
    assert unread(client, rita) == before + 1
    newest = notifications(client, rita)[0]
    assert newest["ticket_id"] == ticket["id"]
    assert newest["ticket_key"] == ticket["key"]
    assert newest["ticket_title"] == "Printer still on fire"
    assert newest["actor"] == {"id": accounts.developer.id, "name": "Dev Eloper"}
    assert newest["summary"] == "Dev Eloper changed status to in progress"
    assert newest["changes"] == {"status": {"from": "open", "to": "in_progress"}}
    assert newest["position"] == int(response.headers["Trail-Position"])
    assert newest["read_at"] is None
    assert set(newest) == {"id", "ticket_id", "ticket_key", "ticket_title", "actor", "summary",
                           "changes", "position", "created_at", "read_at"}


def test_marking_read_one_and_all(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    rita, dev = accounts.reporter.token, accounts.developer.token
    ticket = new_ticket(client, rita, project["id"])
    for priority in ("high", "low", "urgent"):
        client.patch(f"/tickets/{ticket['id']}", dev, json={"priority": priority})
    newest = notifications(client, rita, unread="true")[0]
    assert client.post(f"/notifications/{newest['id']}/read", dev).status_code == 404
    for _ in range(2):
        response = client.post(f"/notifications/{newest['id']}/read", rita)
        assert response.status_code == 204
    assert notifications(client, rita)[0]["read_at"] is not None
    assert newest["id"] not in {n["id"] for n in notifications(client, rita, unread="true")}
    assert client.post("/notifications/00000000-0000-4000-8000-000000000000/read",
                       rita).status_code == 404
    assert client.post("/notifications/nope/read", rita).status_code == 404

    oldest_unread = notifications(client, rita, unread="true")[-1]
    response = client.post("/notifications/read-all", rita,
                           json={"up_to_position": oldest_unread["position"]})
    assert response.status_code == 204
    assert oldest_unread["id"] not in {n["id"] for n in notifications(client, rita,
                                                                      unread="true")}
    assert client.post("/notifications/read-all", rita).status_code == 204
    assert unread(client, rita) == 0


def test_read_all_refuses_bad_bodies(client: Client, accounts: Accounts) -> None:
    rita = accounts.reporter.token
    head = client.post("/notifications/read-all", rita)
    beyond = int(head.headers["Trail-Position"]) + 1000
    cases = [({"up_to_position": beyond}, "up_to_position"),
             ({"up_to_position": -1}, "up_to_position"),
             ({"up_to_position": "soon"}, "up_to_position"),
             ({"until": 3}, "until")]
    for body, field in cases:
        response = client.post("/notifications/read-all", rita, json=body)
        assert response.status_code == 422, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]
    response = client.post("/notifications/read-all", rita, content=b"{",
                           headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_unread_counts_add_up_under_concurrent_commands(
    client: Client, accounts: Accounts, project: dict[str, Any], api_url: str
) -> None:
    rita = accounts.reporter.token
    client.post("/notifications/read-all", rita)
    tickets = [new_ticket(client, rita, project["id"]) for _ in range(3)]
    writers = [accounts.developer.token, accounts.admin.token]
    per_writer = 6
    positions: list[int] = []
    failures: list[str] = []

    def write(token: str, index: int) -> None:
        with httpx.Client(base_url=api_url, timeout=30) as http:
            for n in range(per_writer):
                ticket = tickets[(index + n) % len(tickets)]
                response = http.post(f"/tickets/{ticket['id']}/comments", json={
                    "body": f"comment {index}.{n}"}, headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 201:
                    failures.append(response.text)
                positions.append(int(response.headers["Trail-Position"]))

    threads = [threading.Thread(target=write, args=(token, i)) for i, token in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    client.position = max(positions)
    assert unread(client, rita) == len(writers) * per_writer
    # The developer watches the tickets it commented on: the admin's comments reach it.
    dev_unread = {n["summary"] for n in notifications(client, accounts.developer.token,
                                                      unread="true")}
    assert "Ada Admin commented" in dev_unread


def test_preferences_default_change_and_refuse_other_keys(
    client: Client, accounts: Accounts
) -> None:
    token = accounts.other_reporter.token
    assert client.get("/me/preferences", token).json() == {"email": "each_change"}
    response = client.patch("/me/preferences", token, json={"email": "daily_digest"})
    assert response.status_code == 200, response.text
    assert response.json() == {"email": "daily_digest"}
    assert "Trail-Position" in response.headers
    assert client.get("/me/preferences", token).json() == {"email": "daily_digest"}
    for body, field in (({"email": "weekly"}, "email"), ({"sms": "off"}, "sms"),
                        ({"email": "off", "push": True}, "push")):
        refused = client.patch("/me/preferences", token, json=body)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert client.patch("/me/preferences", token, json={"email": "off"}).json() == {
        "email": "off"}
    assert client.get("/me/preferences").status_code == 401


def test_an_attachment_and_a_link_notify_the_watchers(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    rita, dev = accounts.reporter.token, accounts.developer.token
    ticket = new_ticket(client, rita, project["id"])
    other = new_ticket(client, dev, project["id"])
    uploaded = client.post(f"/tickets/{ticket['id']}/attachments", dev,
                           files={"file": ("notes.txt", b"plain words\n", "text/plain")})
    assert uploaded.status_code == 201, uploaded.text
    newest = notifications(client, rita)[0]
    assert newest["summary"] == "Dev Eloper attached a file"
    assert newest["changes"] == {"attachment_ids": {"from": [], "to": [uploaded.json()["id"]]}}
    linked = client.post(f"/tickets/{ticket['id']}/links", dev,
                         json={"type": "relates_to", "ticket_id": other["id"]})
    assert linked.status_code == 201, linked.text
    assert notifications(client, rita)[0]["summary"] == "Dev Eloper linked a ticket"
