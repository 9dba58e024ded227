"""GET /events/stream: Server-Sent Events of new events the caller may see."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from tests.api.conftest import Accounts, Client, new_ticket


def read_events(client: Client, token: str, count: int, last_event_id: str | None = None,
                opened: threading.Event | None = None) -> list[dict[str, Any]]:
    """The next `count` events of the stream (id, event, data); a 15 s silence fails."""
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with client.http.stream("GET", "/events/stream", headers=headers,
                            timeout=httpx.Timeout(15)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        if opened is not None:
            opened.set()
        for line in response.iter_lines():
            if line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and current:
                events.append(current)
                current = {}
                if len(events) == count:
                    break
    return events


def test_the_stream_resumes_after_last_event_id(client: Client, accounts: Accounts,
                                                project: dict[str, Any]) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"])
    created_at = client.get(f"/events?ticket_id={ticket['id']}",
                            accounts.admin.token).json()["items"][0]["position"]
    events = read_events(client, accounts.admin.token, 1, last_event_id=str(created_at - 1))
    assert events[0]["id"] == str(created_at)
    assert events[0]["event"] == "Ticket.Created"
    assert events[0]["data"]["ticket_id"] == ticket["id"]
    assert events[0]["data"]["position"] == created_at


def test_new_events_arrive_live(client: Client, accounts: Accounts,
                                project: dict[str, Any]) -> None:
    got: list[dict[str, Any]] = []
    opened = threading.Event()
    reader = threading.Thread(target=lambda: got.extend(
        read_events(client, accounts.developer.token, 1, opened=opened)))
    reader.start()
    # The stream has taken its starting position once its response has begun.
    assert opened.wait(15)
    ticket = new_ticket(client, accounts.admin.token, project["id"])
    reader.join(timeout=20)
    assert got and got[0]["data"]["ticket_id"] == ticket["id"]


def test_a_reporter_sees_only_the_events_of_its_tickets(client: Client, accounts: Accounts,
                                                        project: dict[str, Any]) -> None:
    start = client.get("/events?limit=100", accounts.admin.token).json()["items"][-1]["position"]
    hidden = new_ticket(client, accounts.developer.token, project["id"])
    own = new_ticket(client, accounts.reporter.token, project["id"])
    client.patch(f"/tickets/{hidden['id']}", accounts.developer.token, json={"title": "secret"})
    client.post("/projects", accounts.admin.token, json={"name": "Not a ticket"})
    client.patch(f"/tickets/{own['id']}", accounts.reporter.token, json={"title": "mine"})
    events = read_events(client, accounts.reporter.token, 2, last_event_id=str(start))
    assert [e["data"]["ticket_id"] for e in events] == [own["id"], own["id"]]
    assert [e["event"] for e in events] == ["Ticket.Created", "Ticket.TitleChanged"]


def test_invalid_last_event_id_is_422(client: Client, accounts: Accounts) -> None:
    response = client.http.get("/events/stream", headers={
        "Authorization": f"Bearer {accounts.admin.token}", "Last-Event-ID": "yesterday"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Last-Event-ID"
