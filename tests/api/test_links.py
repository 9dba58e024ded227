"""Links and subtasks over HTTP, as API.md "Links and subtasks" writes them: one link shown from
both ends, cycles and duplicates refused, blocked tickets, parents and their progress."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.test_happy_paths import RFC3339_UTC


@pytest.fixture(scope="module")
def dev(accounts: Accounts) -> str:
    return accounts.developer.token


def make(client: Client, token: str, project: dict[str, Any], n: int, **fields: Any
         ) -> list[dict[str, Any]]:
    return [new_ticket(client, token, project["id"], title=f"Ticket {i}", **fields)
            for i in range(n)]


def link(client: Client, token: str, ticket: dict[str, Any], kind: str,
         other: dict[str, Any]) -> Any:
    return client.post(f"/tickets/{ticket['id']}/links", token,
                        json={"type": kind, "ticket_id": other["id"]})


def links(client: Client, token: str, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/tickets/{ticket['key']}/links", token)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def problem(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if kind is not None:
        assert body["type"] == f"urn:trail:problem:{kind}", body
    return body


def set_status(client: Client, token: str, ticket: dict[str, Any], *statuses: str) -> Any:
    response = None
    for status in statuses:
        response = client.patch(f"/tickets/{ticket['id']}", token, json={"status": status})
    return response


# --- a link, from both ends ----------------------------------------------------------------------


def test_a_link_is_one_fact_shown_from_both_ends(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    a, b = make(client, dev, project, 2)
    response = link(client, dev, a, "blocks", b)
    assert response.status_code == 201, response.text
    made = response.json()
    assert set(made) == {"id", "type", "ticket_id", "created_at"}
    assert (made["type"], made["ticket_id"]) == ("blocks", b["id"])
    assert RFC3339_UTC.match(made["created_at"])
    assert response.headers["location"] == f"/tickets/{a['id']}/links/{made['id']}"
    assert int(response.headers["trail-position"]) > 0
    assert response.headers["etag"] == '"2"'

    [from_a] = links(client, dev, a)
    [from_b] = links(client, dev, b)
    assert from_a == {"id": made["id"], "type": "blocks", "created_at": made["created_at"],
                      "ticket": {"id": b["id"], "key": b["key"], "title": b["title"],
                                 "status": "open"}}
    assert (from_b["id"], from_b["type"], from_b["ticket"]["key"]) == (
        made["id"], "blocked_by", a["key"])
    for ticket, seen in ((a, "blocks"), (b, "blocked_by")):
        now = client.get(f"/tickets/{ticket['id']}", dev).json()
        assert now["version"] == 2
        assert [(x["id"], x["type"]) for x in now["links"]] == [(made["id"], seen)]
        history = client.get(f"/tickets/{ticket['id']}/history", dev).json()["items"]
        assert history[-1]["type"] == "Ticket.LinkAdded"
        assert history[-1]["changes"]["links"]["from"] == []
        assert [x["type"] for x in history[-1]["changes"]["links"]["to"]] == [seen]


def test_the_other_ticket_is_shown_as_it_is_now(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    a, b = make(client, dev, project, 2)
    assert link(client, dev, a, "relates_to", b).status_code == 201
    client.patch(f"/tickets/{b['id']}", dev, json={"title": "Renamed", "status": "in_progress"})
    [seen] = links(client, dev, a)
    assert (seen["type"], seen["ticket"]["title"], seen["ticket"]["status"]) == (
        "relates_to", "Renamed", "in_progress")


def test_a_link_is_deleted_from_either_end_and_gone_from_both(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    a, b = make(client, dev, project, 2)
    made = link(client, dev, a, "duplicates", b).json()
    response = client.delete(f"/tickets/{b['key']}/links/{made['id']}", dev)
    assert response.status_code == 204
    assert int(response.headers["trail-position"]) > 0
    assert links(client, dev, a) == links(client, dev, b) == []
    for ticket in (a, b):
        now = client.get(f"/tickets/{ticket['id']}", dev).json()
        assert (now["version"], now["links"]) == (3, [])
    problem(client.delete(f"/tickets/{a['id']}/links/{made['id']}", dev), 404)


def test_as_of_shows_the_links_a_ticket_had_then(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    a, b = make(client, dev, project, 2)
    made = link(client, dev, a, "blocks", b).json()
    client.delete(f"/tickets/{a['id']}/links/{made['id']}", dev)
    then = client.get(f"/tickets/{a['id']}?version=2", dev).json()
    assert [x["id"] for x in then["links"]] == [made["id"]]
    at = client.get(f"/tickets/{a['id']}", dev, params={"as_of": made["created_at"]}).json()
    assert [x["type"] for x in at["links"]] == ["blocks"]
    assert client.get(f"/tickets/{a['id']}?version=1", dev).json()["links"] == []


@pytest.mark.parametrize("second", ["relates_to", "blocks", "blocked_by", "duplicated_by"])
def test_a_link_that_exists_from_either_end_is_409(
    client: Client, dev: str, project: dict[str, Any], second: str
) -> None:
    a, b = make(client, dev, project, 2)
    link(client, dev, a, "blocks", b)
    problem(link(client, dev, b, second, a), 409, "link-not-allowed")
    problem(link(client, dev, a, second, b), 409, "link-not-allowed")


def test_a_link_to_itself_is_409(client: Client, dev: str, project: dict[str, Any]) -> None:
    (a,) = make(client, dev, project, 1)
    problem(link(client, dev, a, "relates_to", a), 409, "link-not-allowed")


def test_a_blocking_link_that_closes_a_cycle_is_409(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    a, b, c = make(client, dev, project, 3)
    assert link(client, dev, a, "blocks", b).status_code == 201
    assert link(client, dev, c, "blocked_by", b).status_code == 201
    problem(link(client, dev, c, "blocks", a), 409, "cycle-not-allowed")
    problem(link(client, dev, a, "blocked_by", c), 409, "cycle-not-allowed")
    # Only blocking links form cycles.
    assert link(client, dev, c, "duplicates", a).status_code == 201


def test_bad_link_bodies_are_422_naming_the_field(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    (a,) = make(client, dev, project, 1)
    path = f"/tickets/{a['id']}/links"
    body = problem(client.post(path, dev, json={"type": "causes", "ticket_id": "nope"}), 422)
    assert {e["field"] for e in body["errors"]} == {"type", "ticket_id"}
    unknown = {"type": "blocks", "ticket_id": "00000000-0000-4000-8000-0000000000aa"}
    body = problem(client.post(path, dev, json=unknown), 422)
    assert [e["field"] for e in body["errors"]] == ["ticket_id"]


def test_reporters_may_not_link_and_hidden_tickets_are_404(
    client: Client, accounts: Accounts, dev: str, project: dict[str, Any]
) -> None:
    reporter = accounts.reporter.token
    own = new_ticket(client, reporter, project["id"])
    (hidden,) = make(client, dev, project, 1)
    problem(link(client, reporter, own, "relates_to", hidden), 403)
    problem(link(client, reporter, hidden, "relates_to", own), 404)
    problem(client.get(f"/tickets/{hidden['id']}/links", reporter), 404)
    # A reporter sees its ticket's links, but not those to tickets it may not see.
    assert link(client, dev, own, "relates_to", hidden).status_code == 201
    assert links(client, reporter, own) == []
    assert len(links(client, dev, own)) == 1


# --- blocked tickets -----------------------------------------------------------------------------


def test_resolving_a_blocked_ticket_is_409_naming_its_blockers(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    blocked, first, second, done = make(client, dev, project, 4)
    for blocker in (first, second, done):
        assert link(client, dev, blocker, "blocks", blocked).status_code == 201
    set_status(client, dev, done, "closed")
    set_status(client, dev, blocked, "in_progress")
    body = problem(set_status(client, dev, blocked, "resolved"), 409, "ticket-blocked")
    assert first["key"] in body["detail"] and second["key"] in body["detail"]
    assert done["key"] not in body["detail"]
    problem(set_status(client, dev, blocked, "closed"), 409, "ticket-blocked")
    set_status(client, dev, first, "in_progress", "resolved")
    set_status(client, dev, second, "closed")
    assert set_status(client, dev, blocked, "resolved").status_code == 200


# --- parents and subtasks -------------------------------------------------------------------------


def test_subtasks_count_towards_their_parent_as_they_move(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    (parent,) = make(client, dev, project, 1)
    assert parent["parent_id"] is None and parent["progress"] is None
    children = make(client, dev, project, 3, parent_id=parent["id"])
    assert all(c["parent_id"] == parent["id"] and c["version"] == 1 for c in children)

    def progress() -> Any:
        return client.get(f"/tickets/{parent['id']}", dev).json()["progress"]

    assert progress() == {"done": 0, "total": 3}
    set_status(client, dev, children[0], "in_progress", "resolved")
    set_status(client, dev, children[1], "closed")
    assert progress() == {"done": 2, "total": 3}
    set_status(client, dev, children[1], "open")
    client.patch(f"/tickets/{children[0]['id']}", dev, json={"parent_id": None})
    assert progress() == {"done": 0, "total": 2}
    listed = client.get(f"/tickets?parent_id={parent['id']}&sort=created_at", dev).json()
    assert [t["id"] for t in listed["items"]] == [children[1]["id"], children[2]["id"]]
    # A command's answer carries the progress too.
    edited = client.patch(f"/tickets/{parent['id']}", dev, json={"title": "Epic"}).json()
    assert edited["progress"] == {"done": 0, "total": 2}


def test_a_parent_shows_in_history_and_null_clears_it(
    client: Client, dev: str, project: dict[str, Any]
) -> None:
    parent, child = make(client, dev, project, 2)
    response = client.patch(f"/tickets/{child['id']}", dev, json={"parent_id": parent["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == parent["id"]
    cleared = client.patch(f"/tickets/{child['id']}", dev, json={"parent_id": None}).json()
    assert (cleared["parent_id"], cleared["version"]) == (None, 3)
    history = client.get(f"/tickets/{child['id']}/history", dev).json()["items"]
    assert [h["changes"].get("parent_id") for h in history[1:]] == [
        {"from": None, "to": parent["id"]}, {"from": parent["id"], "to": None}]
    assert client.get(f"/tickets/{child['id']}?version=2", dev).json()["parent_id"] == parent["id"]


def test_a_parent_cycle_is_409_and_a_parent_elsewhere_422(
    client: Client, accounts: Accounts, dev: str, project: dict[str, Any]
) -> None:
    (top,) = make(client, dev, project, 1)
    (middle,) = make(client, dev, project, 1, parent_id=top["id"])
    (bottom,) = make(client, dev, project, 1, parent_id=middle["id"])
    for descendant in (top, middle, bottom):
        problem(client.patch(f"/tickets/{top['id']}", dev, json={"parent_id": descendant["id"]}),
                409, "cycle-not-allowed")
    other = client.post("/projects", accounts.admin.token, json={"name": "Elsewhere"}).json()
    body = problem(client.post("/tickets", dev, json={
        "project_id": other["id"], "title": "Stray", "parent_id": top["id"]}), 422)
    assert [e["field"] for e in body["errors"]] == ["parent_id"]
    body = problem(client.patch(f"/tickets/{top['id']}", dev, json={
        "parent_id": "00000000-0000-4000-8000-0000000000bb"}), 422)
    assert [e["field"] for e in body["errors"]] == ["parent_id"]


def test_reporters_may_not_send_a_parent(
    client: Client, accounts: Accounts, dev: str, project: dict[str, Any]
) -> None:
    reporter = accounts.reporter.token
    (parent,) = make(client, dev, project, 1)
    problem(client.post("/tickets", reporter, json={
        "project_id": project["id"], "title": "Mine", "parent_id": parent["id"]}), 403)
    own = new_ticket(client, reporter, project["id"])
    problem(client.patch(f"/tickets/{own['id']}", reporter, json={"parent_id": None}), 403)


# --- what one user did ---------------------------------------------------------------------------


def test_events_by_actor_are_what_that_user_did_in_log_order(
    client: Client, accounts: Accounts, dev: str, project: dict[str, Any]
) -> None:
    reporter = accounts.reporter
    ticket = new_ticket(client, reporter.token, project["id"], title="By Rita")
    client.post(f"/tickets/{ticket['id']}/comments", reporter.token, json={"body": "ping"})
    make(client, dev, project, 1)
    admin = accounts.admin.token
    page = client.get(f"/events?actor_id={reporter.id}&limit=100", admin).json()
    positions = [e["position"] for e in page["items"]]
    assert positions == sorted(positions)
    assert {e["actor_id"] for e in page["items"]} == {reporter.id}
    assert [e["type"] for e in page["items"]][-2:] == ["Ticket.Created", "Ticket.Commented"]
    first = client.get(f"/events?actor_id={reporter.id}&limit=1", admin).json()
    rest = client.get(f"/events?actor_id={reporter.id}&limit=100&cursor={first['next_cursor']}",
                      admin).json()
    assert [e["position"] for e in first["items"] + rest["items"]] == positions
    problem(client.get("/events?actor_id=someone", admin), 422)
    problem(client.get(f"/events?actor_id={reporter.id}", dev), 403)
