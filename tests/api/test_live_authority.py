"""Live streams do not outlive their authority: a deactivation, a password change or a demotion
out of sight closes a WebSocket with 4403 within 5 s and ends an SSE stream; a replay is shown
with the visibility the user has now."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from commands.services import Commands
from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.live import live
from tests.api.test_stream import read_events

# The contract's bound from the change to the close.
CLOSE_WITHIN = 5.0


def newcomer(client: Client, accounts: Accounts, role: str = "developer"
             ) -> tuple[str, str, str]:
    """A fresh account of `role`: (id, token, email)."""
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    user = client.register("New Comer", email)
    if role != "reporter":
        response = client.patch(f"/users/{user['id']}", accounts.admin.token, json={"role": role})
        assert response.status_code == 200
    return user["id"], client.login(email), email


def change_password(app: Commands, email: str) -> None:
    """A password reset of the user, as soon as asked: most often in the very second its
    token was issued, which must not save the token."""
    found = app.accounts.start_password_reset(email)
    assert found is not None
    app.accounts.finish_password_reset(found[1], "a whole new one 7")


def closes(action: Callable[[], Any], api_url: str, token: str, *topics: str) -> int | None:
    with live(api_url, token) as ws:
        ws.subscribe(*topics)
        action()
        started = time.monotonic()
        code = ws.closed_with(timeout=CLOSE_WITHIN + 1)
        assert time.monotonic() - started <= CLOSE_WITHIN
        return code


@pytest.mark.parametrize("status", ["deactivated", "pending"])
def test_a_deactivated_or_pending_user_is_closed_with_4403(
    api_url: str, client: Client, accounts: Accounts, status: str
) -> None:
    user_id, token, _ = newcomer(client, accounts)
    code = closes(lambda: client.patch(f"/users/{user_id}", accounts.admin.token,
                                       json={"status": status}),
                  api_url, token, "notifications")
    assert code == 4403


def test_a_password_change_closes_with_4403(
    api_url: str, client: Client, accounts: Accounts, app: Commands
) -> None:
    _, token, email = newcomer(client, accounts)
    code = closes(lambda: change_password(app, email), api_url, token,
                  "notifications")
    assert code == 4403


def test_a_demotion_out_of_sight_closes_with_4403_and_one_in_sight_does_not(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    user_id, token, _ = newcomer(client, accounts)
    theirs = new_ticket(client, accounts.admin.token, project["id"])
    code = closes(lambda: client.patch(f"/users/{user_id}", accounts.admin.token,
                                       json={"role": "reporter"}),
                  api_url, token, f"ticket:{theirs['id']}")
    assert code == 4403

    other_id, other_token, _ = newcomer(client, accounts)
    with live(api_url, other_token) as ws:
        ws.subscribe(f"project:{project['id']}")
        client.patch(f"/users/{other_id}", accounts.admin.token, json={"role": "reporter"})
        # Still open, and now shown only what a reporter sees: not the admin's ticket...
        hidden = new_ticket(client, accounts.admin.token, project["id"])
        client.patch(f"/tickets/{hidden['id']}", accounts.admin.token, json={"title": "x"})
        own = client.post("/tickets", other_token, json={"project_id": project["id"],
                                                         "title": "mine"})
        assert own.status_code == 201
        assert ws.recv()["ticket_id"] == own.json()["id"]


def sse_ends(action: Callable[[], Any], client: Client, token: str,
             within: float = CLOSE_WITHIN) -> None:
    """The stream ends (the response completes) after `action`, within the bound."""
    ended = threading.Event()

    def read() -> None:
        with client.http.stream("GET", "/events/stream", headers={
                "Authorization": f"Bearer {token}"}, timeout=httpx.Timeout(30)) as response:
            assert response.status_code == 200
            opened.set()
            for _ in response.iter_lines():
                pass
        ended.set()

    opened = threading.Event()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(15)
    action()
    assert ended.wait(within + 1), "the stream outlived its authority"


def test_an_sse_stream_ends_on_deactivation_and_on_a_password_change(
    client: Client, accounts: Accounts, app: Commands
) -> None:
    user_id, token, _ = newcomer(client, accounts)
    sse_ends(lambda: client.patch(f"/users/{user_id}", accounts.admin.token,
                                  json={"status": "deactivated"}), client, token)
    _, token, email = newcomer(client, accounts)
    sse_ends(lambda: change_password(app, email), client, token)


def test_an_sse_stream_ends_when_the_user_is_set_pending(
    client: Client, accounts: Accounts
) -> None:
    user_id, token, _ = newcomer(client, accounts)
    sse_ends(lambda: client.patch(f"/users/{user_id}", accounts.admin.token,
                                  json={"status": "pending"}), client, token)


def test_a_live_sse_stream_applies_a_demotion_from_the_next_event(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    """A developer demoted while its stream runs stops getting the events of tickets it may no
    longer see at once: the first event after the demotion is one of its own ticket's."""
    user_id, token, _ = newcomer(client, accounts)
    opened = threading.Event()
    got: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: got.extend(read_events(
        client, token, 1, opened=opened)), daemon=True)
    reader.start()
    assert opened.wait(15)
    client.patch(f"/users/{user_id}", accounts.admin.token, json={"role": "reporter"})
    hidden = new_ticket(client, accounts.admin.token, project["id"])
    client.patch(f"/tickets/{hidden['id']}", accounts.admin.token, json={"title": "secret"})
    own = new_ticket(client, token, project["id"])
    reader.join(20)
    assert [e["data"]["ticket_id"] for e in got] == [own["id"]]


def test_an_sse_replay_uses_the_visibility_the_user_has_now(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    user_id, token, _ = newcomer(client, accounts)
    start = client.post("/notifications/read-all", token).headers["Trail-Position"]
    hidden = new_ticket(client, accounts.admin.token, project["id"])
    client.patch(f"/tickets/{hidden['id']}", accounts.admin.token, json={"title": "secret"})
    client.patch(f"/users/{user_id}", accounts.admin.token, json={"role": "reporter"})
    own = new_ticket(client, token, project["id"])
    events = read_events(client, token, 1, last_event_id=start)
    assert events[0]["data"]["ticket_id"] == own["id"]


def test_a_team_member_follows_its_teams_tickets_until_it_leaves_the_team(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    admin = accounts.admin.token
    member_id, token, _ = newcomer(client, accounts, role="reporter")
    team = client.post("/teams", admin, json={"name": f"Team {uuid.uuid4().hex[:6]}"}).json()
    assert client.put(f"/teams/{team['id']}/members", admin,
                      json={"user_ids": [member_id]}).status_code == 200
    ticket = new_ticket(client, admin, project["id"], team_id=team["id"])
    with live(api_url, token) as ws:
        ws.subscribe(f"project:{project['id']}")
        changed = client.patch(f"/tickets/{ticket['id']}", admin, json={"priority": "high"})
        assert ws.recv()["position"] == int(changed.headers["Trail-Position"])
    code = closes(lambda: client.put(f"/teams/{team['id']}/members", admin,
                                     json={"user_ids": []}),
                  api_url, token, f"ticket:{ticket['id']}")
    assert code == 4403


def test_a_ticket_moved_out_of_sight_is_unsubscribed_with_an_error(
    api_url: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    admin = accounts.admin.token
    member_id, token, _ = newcomer(client, accounts, role="reporter")
    teams = [client.post("/teams", admin, json={"name": f"Team {uuid.uuid4().hex[:6]}"}).json()
             for _ in range(2)]
    client.put(f"/teams/{teams[0]['id']}/members", admin, json={"user_ids": [member_id]})
    moved = new_ticket(client, admin, project["id"], team_id=teams[0]["id"])
    kept = new_ticket(client, admin, project["id"], team_id=teams[0]["id"])
    with live(api_url, token) as ws:
        ws.subscribe(f"ticket:{moved['id']}", f"ticket:{kept['id']}")
        client.patch(f"/tickets/{moved['id']}", admin, json={"team_id": teams[1]["id"]})
        frame = ws.recv()
        assert frame["type"] == "error" and moved["id"] in frame["detail"]
        client.patch(f"/tickets/{moved['id']}", admin, json={"title": "not for you"})
        later = client.patch(f"/tickets/{kept['id']}", admin, json={"title": "still yours"})
        assert ws.recv()["position"] == int(later.headers["Trail-Position"])


def test_an_sse_stream_ends_at_the_tokens_expiry(
    client: Client, accounts: Accounts, api_env: dict[str, str]
) -> None:
    expires = int(time.time()) + 3
    token = jwt.encode({"sub": accounts.developer.id, "iat": expires - 60, "exp": expires,
                        "jti": "short-lived-sse"}, api_env["TRAIL_SECRET_KEY"],
                       algorithm="HS256")
    sse_ends(lambda: None, client, token, within=expires - time.time() + CLOSE_WITHIN)
    assert time.time() >= expires


def test_an_api_token_opens_a_stream_and_revoking_it_closes_it(
    api_url: str, client: Client, accounts: Accounts
) -> None:
    _, token, _ = newcomer(client, accounts)
    issued = client.post("/me/tokens", token, json={"name": "live"})
    assert issued.status_code == 201, issued.text
    api_token = issued.json()["token"]
    code = closes(lambda: client.delete(f"/me/tokens/{issued.json()['id']}", token),
                  api_url, api_token, "notifications")
    assert code == 4401
    with live(api_url) as ws:
        ws.send({"type": "auth", "token": api_token})
        assert ws.closed_with() == 4401
