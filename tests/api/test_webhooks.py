"""Webhooks (API.md "Webhooks"): configuration by admins, and delivery to a real receiver that
verifies every signature with the standardwebhooks library: exactly the matching events, in log
order, at least once, across failures, pauses and replays."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from runtime import bootstrap
from runtime.settings import Settings
from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.receiver import Received, Receiver, settled
from workers.config import WebhookDelivery

MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "TRAIL_WEBHOOK_ALLOW_PRIVATE": "true"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module", autouse=True)
def deliverer(api_url: str, api_env: dict[str, str], scratch_database_url: str
              ) -> Iterator[None]:
    settings = Settings(secret_key=api_env["TRAIL_SECRET_KEY"], webhook_allow_private=True)
    delivery = WebhookDelivery(max_attempts=MAX_ATTEMPTS, min_backoff=0.2, max_backoff=0.4,
                               timeout=1.0, threads=4, poll_interval=0.2, allow_private=True)
    process = bootstrap.webhooks(settings, scratch_database_url, delivery)
    process.start()
    yield
    process.stop()


def create(client: Client, receiver: Receiver, token: str, path: str, **body: Any
           ) -> dict[str, Any]:
    response = client.post("/webhooks", token, json={"url": receiver.url + path, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.endpoint(path).secret = created["secret"]
    created["position"] = int(response.headers["trail-position"])
    return created


def matching(client: Client, token: str, after: int, types: list[str] | None = None
             ) -> list[dict[str, Any]]:
    """The log's events after `after` (of `types`), as /events shows them: the oracle."""
    query = "".join(f"&type={t}" for t in types or [])
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/events?after={after}&limit=100{query}", token).json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        after = items[-1]["position"]


def positions(received: list[Received]) -> list[int]:
    return [r.position for r in received]


def test_create_answers_the_secret_once(client: Client, accounts: Accounts,
                                        receiver: Receiver) -> None:
    response = client.post("/webhooks", accounts.admin.token, json={
        "url": receiver.url + "/created", "event_types": ["Ticket.Created"]})
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"id", "url", "event_types", "project_id", "secret", "active",
                            "created_at"}
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    assert created["active"] is True and created["project_id"] is None
    assert response.headers["location"] == f"/webhooks/{created['id']}"
    assert response.headers["cache-control"] == "no-store"

    shown = client.get(f"/webhooks/{created['id']}", accounts.admin.token)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = client.get("/webhooks", accounts.admin.token).json()["items"]
    assert created["id"] in {w["id"] for w in listed}
    assert all("secret" not in w for w in listed)


def test_the_secret_is_sealed_at_rest_and_never_in_an_event(
    client: Client, accounts: Accounts, receiver: Receiver, scratch_database_url: str
) -> None:
    created = create(client, receiver, accounts.admin.token, "/sealed", event_types=["*"])
    secret = created["secret"].encode()
    with psycopg.connect(scratch_database_url) as conn:
        sealed = conn.execute("SELECT sealed FROM webhook_secrets WHERE webhook_id = %s",
                              (created["id"],)).fetchone()
        assert sealed is not None and created["secret"] not in sealed[0]
        assert conn.execute(
            "SELECT count(*) FROM trail_events WHERE position(%s::bytea IN state) > 0", (secret,)
        ).fetchone() == (0,)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event_types": []}, "event_types"),
        ({"event_types": ["Ticket.Nope"]}, "event_types"),
        ({"event_types": ["*", "Ticket.Created"]}, "event_types"),
        ({"event_types": "Ticket.Created"}, "event_types"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://user:pw@example.com/hook"}, "url"),
        ({"project_id": "00000000-0000-4000-8000-000000000000"}, "project_id"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_invalid_webhooks_are_422_naming_the_field(
    client: Client, accounts: Accounts, receiver: Receiver, body: dict[str, Any], field: str
) -> None:
    sent = {"url": receiver.url + "/invalid", "event_types": ["*"], **body}
    response = client.post("/webhooks", accounts.admin.token, json=sent)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


def test_patch_validates_like_create(client: Client, accounts: Accounts,
                                     receiver: Receiver) -> None:
    created = create(client, receiver, accounts.admin.token, "/patched", event_types=["*"])
    path = f"/webhooks/{created['id']}"
    for body, field in (({"event_types": []}, "event_types"), ({"url": "gopher://x"}, "url"),
                        ({"active": "yes"}, "active"), ({"project_id": None}, "project_id")):
        response = client.patch(path, accounts.admin.token, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}
    changed = client.patch(path, accounts.admin.token,
                           json={"event_types": ["Ticket.Created"], "url": receiver.url + "/p2"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["Ticket.Created"]
    assert changed.json()["url"] == receiver.url + "/p2"


ENDPOINTS = [
    ("POST", "/webhooks", {"url": "http://127.0.0.1:9/x", "event_types": ["*"]}),
    ("GET", "/webhooks", None),
    ("GET", "/webhooks/{id}", None),
    ("PATCH", "/webhooks/{id}", {"active": False}),
    ("DELETE", "/webhooks/{id}", None),
    ("GET", "/webhooks/{id}/deliveries", None),
    ("POST", "/webhooks/{id}/deliveries/{id}/retry", None),
    ("POST", "/webhooks/{id}/replay", {"after_position": 0}),
]


@pytest.mark.parametrize("role", ["developer", "reporter"])
@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_only_admins_touch_webhooks(
    client: Client, accounts: Accounts, receiver: Receiver, role: str, method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    created = create(client, receiver, accounts.admin.token, "/roles", event_types=["*"])
    response = client.request(method, path.replace("{id}", created["id"]),
                              getattr(accounts, role).token, json=body)
    assert response.status_code == 403, response.text


def test_unknown_webhooks_are_404(client: Client, accounts: Accounts) -> None:
    unknown = "/webhooks/00000000-0000-4000-8000-000000000000"
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"active": False}),
                                 ("DELETE", "", None), ("GET", "/deliveries", None),
                                 ("POST", "/replay", {"after_position": 0})):
        response = client.request(method, unknown + suffix, accounts.admin.token, json=body)
        assert response.status_code == 404, (method, suffix, response.text)


def test_exactly_the_matching_events_arrive_signed_in_order_as_events_items(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    types = ["Ticket.Created", "Ticket.StatusChanged"]
    hook = create(client, receiver, accounts.admin.token, "/matching", event_types=types)
    token = accounts.admin.token
    ticket = new_ticket(client, token, project["id"])
    client.patch(f"/tickets/{ticket['id']}", token, json={"title": "Renamed, not delivered"})
    client.patch(f"/tickets/{ticket['id']}", token, json={"status": "in_progress"})
    client.patch(f"/tickets/{ticket['id']}", token, json={"status": "resolved"})
    expected = matching(client, token, hook["position"], types)
    assert [e["type"] for e in expected][-3:] == [*types, "Ticket.StatusChanged"]

    got = receiver.wait_for("/matching", lambda got: len(got) >= len(expected))
    assert [r.body for r in got] == expected
    assert all(r.verified for r in got)
    first = got[0]
    assert first.headers["content-type"] == "application/json"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(first.headers)
    assert len({r.webhook_id for r in got}) == len(got)


def test_a_receiver_outage_is_retried_with_the_same_webhook_id_and_order_kept(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    hook = create(client, receiver, token, "/outage", event_types=["Ticket.Created"])
    # Down for the first two attempts: the third (the last one allowed) gets through.
    receiver.endpoint("/outage").fail_next = MAX_ATTEMPTS - 1
    for _ in range(3):
        new_ticket(client, token, project["id"])
    expected = matching(client, token, hook["position"], ["Ticket.Created"])
    got = receiver.wait_for("/outage", lambda got: len(got) >= len(expected))
    assert positions(got) == [e["position"] for e in expected]
    failed = [r for r in receiver.at("/outage", delivered=False) if r.answered == 503]
    assert len(failed) == MAX_ATTEMPTS - 1
    assert {r.webhook_id for r in failed} == {got[0].webhook_id}
    assert all(r.position == got[0].position for r in failed)
    deliveries = settled(
        lambda: client.get(f"/webhooks/{hook['id']}/deliveries?status=delivered",
                           token).json()["items"],
        lambda items: any(d["position"] == got[0].position for d in items),
    )
    first = next(d for d in deliveries if d["position"] == got[0].position)
    assert first["status"] == "delivered" and first["attempts"] == MAX_ATTEMPTS
    assert first["last_status_code"] == 204


def test_an_exhausted_delivery_fails_visibly_and_the_events_after_it_go_on(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    hook = create(client, receiver, token, "/exhausted", event_types=["Ticket.Created"])
    doomed = new_ticket(client, token, project["id"])
    doomed_position = client.position
    receiver.endpoint("/exhausted").fail_positions.add(doomed_position)
    after = [new_ticket(client, token, project["id"]) for _ in range(2)]
    got = receiver.wait_for("/exhausted", lambda got: len(got) >= 2)
    assert [r.body["ticket_id"] for r in got] == [t["id"] for t in after]
    tries = [r for r in receiver.at("/exhausted", delivered=False)
             if r.position == doomed_position]
    assert len(tries) == MAX_ATTEMPTS and len({r.webhook_id for r in tries}) == 1

    failed = client.get(f"/webhooks/{hook['id']}/deliveries?status=failed", token).json()
    assert [d["position"] for d in failed["items"]] == [doomed_position]
    item = failed["items"][0]
    assert item["attempts"] == MAX_ATTEMPTS and item["last_status_code"] == 503
    assert item["last_error"] and item["next_attempt_at"] is None
    assert item["event_type"] == "Ticket.Created"
    health = client.get("/health").json()
    assert health["webhooks"]["failed"] >= 1
    assert doomed["id"]

    # Retried by hand once the receiver is fixed: delivered, with the same webhook-id.
    receiver.endpoint("/exhausted").fail_positions.clear()
    retried = client.post(f"/webhooks/{hook['id']}/deliveries/{item['id']}/retry", token)
    assert retried.status_code == 202, retried.text
    again = receiver.wait_for("/exhausted", lambda got: len(got) >= 3)
    assert again[-1].position == doomed_position
    assert again[-1].webhook_id == tries[0].webhook_id
    unknown = f"/webhooks/{hook['id']}/deliveries/00000000-0000-4000-8000-000000000000/retry"
    assert client.post(unknown, token).status_code == 404


def test_a_failing_webhook_holds_back_no_other(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    receiver.endpoint("/stuck").stall = 2.5
    receiver.endpoint("/stuck").failing = True
    stuck = create(client, receiver, token, "/stuck", event_types=["Ticket.Created"])
    healthy = create(client, receiver, token, "/healthy", event_types=["Ticket.Created"])
    for _ in range(4):
        new_ticket(client, token, project["id"])
    expected = matching(client, token, healthy["position"], ["Ticket.Created"])
    got = receiver.wait_for("/healthy", lambda got: len(got) >= len(expected))
    assert positions(got) == [e["position"] for e in expected]
    pending = client.get(f"/webhooks/{stuck['id']}/deliveries?status=pending", token).json()
    assert pending["items"], "the stuck webhook still has its deliveries to make"
    client.delete(f"/webhooks/{stuck['id']}", token)


def test_a_paused_webhook_resumes_where_it_stopped(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    paused = create(client, receiver, token, "/paused", event_types=["Ticket.Created"])
    witness = create(client, receiver, token, "/witness", event_types=["Ticket.Created"])
    first = new_ticket(client, token, project["id"])
    receiver.wait_for("/paused", lambda got: len(got) >= 1)
    off = client.patch(f"/webhooks/{paused['id']}", token, json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    held = [new_ticket(client, token, project["id"]) for _ in range(3)]
    # The witness has every one of them: the paused webhook had its chance, and took none.
    receiver.wait_for("/witness", lambda got: len(got) >= 4)
    assert [r.body["ticket_id"] for r in receiver.at("/paused")] == [first["id"]]
    waiting = client.get(f"/webhooks/{paused['id']}/deliveries?status=pending", token).json()
    assert len(waiting["items"]) == 3 and all(d["attempts"] == 0 for d in waiting["items"])

    on = client.patch(f"/webhooks/{paused['id']}", token, json={"active": True})
    assert on.json()["active"] is True
    got = receiver.wait_for("/paused", lambda got: len(got) >= 4)
    assert [r.body["ticket_id"] for r in got] == [first["id"]] + [t["id"] for t in held]
    assert witness["id"]


def test_replay_delivers_every_matching_event_after_a_position_again(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    hook = create(client, receiver, token, "/replayed", event_types=["Ticket.Created"])
    tickets = [new_ticket(client, token, project["id"]) for _ in range(3)]
    live = receiver.wait_for("/replayed", lambda got: len(got) >= 3)
    after = live[0].position
    replay = client.post(f"/webhooks/{hook['id']}/replay", token, json={"after_position": after})
    assert replay.status_code == 202, replay.text
    later = new_ticket(client, token, project["id"])
    got = receiver.wait_for("/replayed", lambda got: len(got) >= 6)
    assert [r.body["ticket_id"] for r in got] == [
        *(t["id"] for t in tickets), *(t["id"] for t in tickets[1:]), later["id"]]
    # A replay's deliveries are new ones: each webhook-id arrives once.
    assert len({r.webhook_id for r in got}) == len(got)
    beyond = client.post(f"/webhooks/{hook['id']}/replay", token,
                         json={"after_position": client.position + 1000})
    assert beyond.status_code == 422
    assert client.post(f"/webhooks/{hook['id']}/replay", token,
                       json={"after_position": -1}).status_code == 422


def test_a_project_webhook_gets_that_projects_events_only(
    client: Client, accounts: Accounts, receiver: Receiver, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    other = client.post("/projects", token, json={"name": "Other Place"}).json()
    hook = create(client, receiver, token, "/scoped", event_types=["*"],
                  project_id=project["id"])
    assert hook["project_id"] == project["id"]
    new_ticket(client, token, other["id"])
    mine = new_ticket(client, token, project["id"])
    client.put(f"/projects/{project['id']}", token,
               json={"name": project["name"], "description": "described"})
    got = receiver.wait_for("/scoped", lambda got: len(got) >= 2)
    assert [r.body["type"] for r in got] == ["Ticket.Created", "Project.Redescribed"]
    assert got[0].body["ticket_id"] == mine["id"]


def test_redirects_are_not_followed(client: Client, accounts: Accounts, receiver: Receiver,
                                    project: dict[str, Any]) -> None:
    token = accounts.admin.token
    receiver.endpoint("/moved").redirect_to = receiver.url + "/target"
    hook = create(client, receiver, token, "/moved", event_types=["Ticket.Created"])
    new_ticket(client, token, project["id"])
    receiver.wait(lambda: len([r for r in receiver.received if r.path == "/moved"])
                  >= MAX_ATTEMPTS)
    failed = settled(
        lambda: client.get(f"/webhooks/{hook['id']}/deliveries?status=failed", token).json(),
        lambda page: bool(page["items"]),
    )
    assert failed["items"][0]["last_status_code"] == 302
    assert receiver.at("/target", delivered=False) == []


def test_a_deleted_webhook_gets_nothing_more(client: Client, accounts: Accounts,
                                             receiver: Receiver, project: dict[str, Any]) -> None:
    token = accounts.admin.token
    gone = create(client, receiver, token, "/gone", event_types=["Ticket.Created"])
    witness = create(client, receiver, token, "/gone-witness", event_types=["Ticket.Created"])
    deleted = client.delete(f"/webhooks/{gone['id']}", token)
    assert deleted.status_code == 204 and "trail-position" in deleted.headers
    assert client.get(f"/webhooks/{gone['id']}", token).status_code == 404
    assert client.delete(f"/webhooks/{gone['id']}", token).status_code == 404
    new_ticket(client, token, project["id"])
    receiver.wait_for("/gone-witness", lambda got: len(got) >= 1)
    assert receiver.at("/gone", delivered=False) == []
    listed = client.get("/webhooks?limit=100", token).json()["items"]
    assert gone["id"] not in {w["id"] for w in listed}
    assert witness["id"] in {w["id"] for w in listed}


def test_configuration_changes_are_events_without_the_secret(
    client: Client, accounts: Accounts, receiver: Receiver
) -> None:
    token = accounts.admin.token
    hook = create(client, receiver, token, "/audited", event_types=["*"])
    client.patch(f"/webhooks/{hook['id']}", token, json={"active": False})
    events = matching(client, token, hook["position"] - 1,
                      ["Webhook.Created", "Webhook.Paused"])
    mine = [e for e in events if e["data"].get("url") == hook["url"] or e["type"] ==
            "Webhook.Paused"]
    assert [e["type"] for e in mine][:2] == ["Webhook.Created", "Webhook.Paused"]
    assert all(hook["secret"] not in str(e) for e in events)
