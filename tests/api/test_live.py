"""`/ws`: authentication, subscriptions, frames in log order, replay with `after`, and the
visibility of every role, against a real API process."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt

from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.live import live


def position(response: Any) -> int:
    return int(response.headers["Trail-Position"])


def test_auth_then_subscribe_then_events_of_a_ticket(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    with live(api_url, accounts.reporter.token) as ws:
        subscribed = ws.subscribe(f"ticket:{ticket['key']}")
        assert subscribed["topics"] == [f"ticket:{ticket['id']}"]
        response = client.patch(f"/tickets/{ticket['id']}", accounts.developer.token,
                                json={"status": "in_progress"})
        frame = ws.recv()
        assert frame == {
            "type": "event", "position": position(response),
            "event_type": "Ticket.StatusChanged", "ticket_id": ticket["id"],
            "at": frame["at"], "data": frame["data"],
        }
        assert frame["data"]["status"] == "in_progress"
        assert frame["data"]["old_status"] == "open"
        assert subscribed["position"] < frame["position"]
        ws.send({"type": "ping"})
        assert ws.recv() == {"type": "pong"}


def test_the_authorization_header_authenticates_too(
    api_url: str, accounts: Accounts
) -> None:
    with live(api_url, accounts.developer.token, header=True) as ws:
        assert ws.subscribe("notifications")["topics"] == ["notifications"]


def test_a_first_message_that_is_not_a_valid_auth_closes_with_4401(
    api_url: str, accounts: Accounts
) -> None:
    firsts = ["hello", json.dumps({"type": "subscribe", "topics": ["notifications"]}),
              json.dumps({"type": "auth"}), json.dumps({"type": "auth", "token": "forged"}),
              json.dumps({"type": "auth", "token": accounts.admin.token + "x"})]
    for first in firsts:
        with live(api_url) as ws:
            ws.connection.send(first)
            assert ws.closed_with() == 4401, first


def test_the_tokens_expiry_closes_the_socket(
    api_url: str, accounts: Accounts, api_env: dict[str, str]
) -> None:
    expires = int(time.time()) + 3
    token = jwt.encode({"sub": accounts.developer.id, "iat": expires - 60, "exp": expires,
                        "jti": "short-lived"}, api_env["TRAIL_SECRET_KEY"], algorithm="HS256")
    with live(api_url, token) as ws:
        ws.subscribe("notifications")
        assert ws.closed_with(timeout=expires - time.time() + 10) == 4401
    assert time.time() >= expires


def test_topics_one_may_not_see_are_errors_and_deliver_nothing(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    hidden = new_ticket(client, accounts.developer.token, project["id"])
    own = new_ticket(client, accounts.reporter.token, project["id"])
    with live(api_url, accounts.reporter.token) as ws:
        ws.send({"type": "subscribe", "topics": [
            f"ticket:{hidden['id']}", f"ticket:{own['id']}", "project:nope", "weather"]})
        frames = ws.take(4)
        errors = [f["detail"] for f in frames if f["type"] == "error"]
        assert len(errors) == 3, frames
        assert frames[-1] == {"type": "subscribed", "topics": [f"ticket:{own['id']}"],
                              "position": frames[-1]["position"]}
        client.patch(f"/tickets/{hidden['id']}", accounts.developer.token, json={"title": "x"})
        mine = client.patch(f"/tickets/{own['id']}", accounts.developer.token,
                            json={"title": "y"})
        # In log order: had the hidden ticket's event been sent, it would come first.
        assert ws.recv()["position"] == position(mine)


def test_a_project_shows_each_role_the_tickets_it_may_see(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    with live(api_url, accounts.reporter.token) as rita, \
            live(api_url, accounts.developer.token) as dev:
        for ws in (rita, dev):
            ws.subscribe(f"project:{project['id']}")
        hidden = new_ticket(client, accounts.developer.token, project["id"])
        own = new_ticket(client, accounts.reporter.token, project["id"])
        assert [f["ticket_id"] for f in dev.take(2)] == [hidden["id"], own["id"]]
        assert rita.recv()["ticket_id"] == own["id"]


def test_notification_frames_are_the_notifications_the_list_shows(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    with live(api_url, accounts.reporter.token) as ws:
        ws.subscribe("notifications")
        client.patch(f"/tickets/{ticket['id']}", accounts.developer.token,
                     json={"priority": "urgent"})
        frame = ws.until(lambda f: f["type"] == "notification")
        listed = client.get("/notifications", accounts.reporter.token).json()["items"][0]
        assert frame["notification"] == listed
        assert listed["summary"] == "Dev Eloper changed priority to urgent"


def test_message_frames_reach_the_participants_only(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    client.put(f"/tickets/{ticket['id']}/assignees", accounts.admin.token,
               json={"user_ids": [accounts.developer.id]})
    with live(api_url, accounts.developer.token) as dev, \
            live(api_url, accounts.admin.token) as admin:
        dev.subscribe("messages")
        admin.subscribe("messages", f"ticket:{ticket['id']}", f"project:{project['id']}")
        sent = client.post(f"/tickets/{ticket['id']}/messages", accounts.reporter.token,
                           json={"body": "between us"})
        frame = dev.recv()
        assert frame == {"type": "message", "message": sent.json()}
        edit = client.patch(f"/tickets/{ticket['id']}", accounts.developer.token,
                            json={"title": "after the message"})
        assert admin.recv()["position"] == position(edit)


def test_a_reconnect_with_after_gets_exactly_what_it_missed(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"])
    topic = f"ticket:{ticket['id']}"
    with live(api_url, accounts.developer.token) as ws:
        ws.subscribe(topic)
        first = client.patch(f"/tickets/{ticket['id']}", accounts.admin.token,
                             json={"title": "one"})
        last_seen = ws.recv()["position"]
        assert last_seen == position(first)
    missed = []
    for title in ("two", "three", "four"):
        missed.append(position(client.patch(f"/tickets/{ticket['id']}", accounts.admin.token,
                                            json={"title": title})))
    other = new_ticket(client, accounts.admin.token, project["id"])
    client.patch(f"/tickets/{other['id']}", accounts.admin.token, json={"title": "elsewhere"})
    with live(api_url, accounts.developer.token) as ws:
        subscribed = ws.subscribe(topic, after=last_seen)
        assert subscribed["position"] >= missed[-1]
        assert [f["position"] for f in ws.take(3)] == missed
        live_one = client.patch(f"/tickets/{ticket['id']}", accounts.admin.token,
                                json={"title": "five"})
        assert ws.recv()["position"] == position(live_one)


def test_a_later_subscription_with_after_replays_its_own_topics(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    first = new_ticket(client, accounts.developer.token, project["id"])
    second = new_ticket(client, accounts.developer.token, project["id"])
    with live(api_url, accounts.developer.token) as ws:
        start = ws.subscribe(f"ticket:{first['id']}")["position"]
        edited = client.patch(f"/tickets/{second['id']}", accounts.admin.token,
                              json={"title": "before subscribing"})
        ws.subscribe(f"ticket:{second['id']}", after=start)
        assert ws.recv()["position"] == position(edited)
        now = client.patch(f"/tickets/{first['id']}", accounts.admin.token, json={"title": "n"})
        assert ws.recv()["position"] == position(now)


def test_malformed_messages_after_auth_are_answered_not_fatal(
    api_url: str, accounts: Accounts
) -> None:
    with live(api_url, accounts.developer.token) as ws:
        for message in ("{", "[]", json.dumps({"type": "subscribe", "topics": []}),
                        json.dumps({"type": "subscribe", "topics": ["notifications"],
                                    "after": -1}),
                        json.dumps({"type": "auth", "token": accounts.developer.token})):
            ws.connection.send(message)
            assert ws.recv()["type"] == "error", message
        assert ws.subscribe("notifications")["topics"] == ["notifications"]


def test_a_plain_get_of_the_websocket_path_is_426(client: Client) -> None:
    response = client.get("/ws")
    assert response.status_code == 426
    assert response.headers["upgrade"] == "websocket"
    assert response.json()["status"] == 426
    described = client.get("/schema/openapi.json").json()["paths"]["/ws"]["get"]
    assert "subscribe" in described["description"]
