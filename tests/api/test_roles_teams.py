"""Role by endpoint for links, subtasks and teams: what admin, developer, reporter, a team member
and a team lead each get. The member and the lead are reporters by role, so whatever they get
beyond a reporter, their team gives them.

The tickets acted on belong to the team and were reported by a developer: the reporter neither
reported them nor is assigned to them, so it may not see them (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import Account, Accounts, Client, new_ticket

PERSONAS = ("admin", "developer", "reporter", "member", "lead")


@dataclass
class World:
    client: Client
    accounts: Accounts
    project: dict[str, Any]
    team: dict[str, Any]
    member: Account
    lead: Account

    def account(self, persona: str) -> Account:
        if persona in ("member", "lead"):
            found: Account = getattr(self, persona)
            return found
        role: Account = getattr(self.accounts, persona)
        return role

    def token(self, persona: str) -> str:
        return self.account(persona).token

    def team_ticket(self, **fields: Any) -> dict[str, Any]:
        """A fresh ticket of the team, reported by the developer."""
        return new_ticket(self.client, self.accounts.developer.token, self.project["id"],
                          team_id=self.team["id"], **fields)

    def shared_ticket(self) -> dict[str, Any]:
        """A fresh team ticket the reporter reported: every persona may see it."""
        return new_ticket(self.client, self.accounts.reporter.token, self.project["id"],
                          title="Shared")

    def linked(self) -> tuple[dict[str, Any], str]:
        ticket, other = self.team_ticket(), self.team_ticket()
        made = self.client.post(f"/tickets/{ticket['id']}/links", self.token("admin"),
                                json={"type": "relates_to", "ticket_id": other["id"]})
        return ticket, made.json()["id"]


Call = Callable[[World, str], httpx.Response]


def _get(path: Callable[[World], str]) -> Call:
    return lambda w, p: w.client.get(path(w), w.token(p))


def _patch_team_ticket(body: Callable[[World], dict[str, Any]]) -> Call:
    def call(w: World, persona: str) -> httpx.Response:
        ticket = w.team_ticket()
        return w.client.patch(f"/tickets/{ticket['id']}", w.token(persona), json=body(w))
    return call


def _link_team_ticket(w: World, persona: str) -> httpx.Response:
    ticket, other = w.team_ticket(), w.team_ticket()
    return w.client.post(f"/tickets/{ticket['id']}/links", w.token(persona),
                         json={"type": "blocks", "ticket_id": other["id"]})


def _link_shared_ticket(w: World, persona: str) -> httpx.Response:
    ticket = w.shared_ticket()
    w.client.patch(f"/tickets/{ticket['id']}", w.token("admin"), json={"team_id": w.team["id"]})
    other = w.team_ticket()
    return w.client.post(f"/tickets/{ticket['id']}/links", w.token(persona),
                         json={"type": "relates_to", "ticket_id": other["id"]})


def _unlink(w: World, persona: str) -> httpx.Response:
    ticket, link_id = w.linked()
    return w.client.delete(f"/tickets/{ticket['id']}/links/{link_id}", w.token(persona))


def _list_links(w: World, persona: str) -> httpx.Response:
    ticket, _ = w.linked()
    return w.client.get(f"/tickets/{ticket['id']}/links", w.token(persona))


def _assign(w: World, persona: str) -> httpx.Response:
    ticket = w.team_ticket()
    return w.client.put(f"/tickets/{ticket['id']}/assignees", w.token(persona),
                        json={"user_ids": [w.accounts.developer.id]})


def _create_ticket(extra: Callable[[World], dict[str, Any]]) -> Call:
    def call(w: World, persona: str) -> httpx.Response:
        return w.client.post("/tickets", w.token(persona), json={
            "project_id": w.project["id"], "title": "Matrix", **extra(w)})
    return call


_names = iter(range(1_000_000))


def _members(w: World, persona: str) -> httpx.Response:
    return w.client.put(f"/teams/{w.team['id']}/members", w.token(persona),
                        json={"user_ids": [w.lead.id, w.member.id]})


MATRIX: dict[str, tuple[Call, tuple[int, int, int, int, int]]] = {
    "POST /teams": (
        lambda w, p: w.client.post("/teams", w.token(p), json={"name": f"Team {next(_names)}"}),
        (201, 403, 403, 403, 403)),
    "GET /teams": (_get(lambda w: "/teams"), (200, 200, 200, 200, 200)),
    "GET /teams/{id}": (_get(lambda w: f"/teams/{w.team['id']}"), (200, 200, 200, 200, 200)),
    "PATCH /teams/{id}": (
        lambda w, p: w.client.patch(f"/teams/{w.team['id']}", w.token(p),
                                    json={"name": "Matrix Team"}),
        (200, 403, 403, 403, 403)),
    "PUT /teams/{id}/members": (_members, (200, 403, 403, 403, 200)),
    "POST /tickets/{team}/links": (_link_team_ticket, (201, 201, 404, 403, 403)),
    "POST /tickets/{shared}/links": (_link_shared_ticket, (201, 201, 403, 403, 403)),
    "GET /tickets/{team}/links": (_list_links, (200, 200, 404, 200, 200)),
    "DELETE /tickets/{team}/links/{id}": (_unlink, (204, 204, 404, 403, 403)),
    "GET /tickets/{team}": (
        lambda w, p: w.client.get(f"/tickets/{w.team_ticket()['id']}", w.token(p)),
        (200, 200, 404, 200, 200)),
    "PATCH /tickets/{team} status": (_patch_team_ticket(lambda w: {"status": "in_progress"}),
                                     (200, 200, 404, 403, 200)),
    "PATCH /tickets/{team} priority": (_patch_team_ticket(lambda w: {"priority": "high"}),
                                       (200, 200, 404, 403, 200)),
    "PATCH /tickets/{team} title": (_patch_team_ticket(lambda w: {"title": "Retitled"}),
                                    (200, 200, 404, 200, 200)),
    "PATCH /tickets/{team} team_id null": (_patch_team_ticket(lambda w: {"team_id": None}),
                                           (200, 200, 404, 403, 200)),
    "PATCH /tickets/{team} parent_id": (
        _patch_team_ticket(lambda w: {"parent_id": w.team_ticket()["id"]}),
        (200, 200, 404, 403, 403)),
    "PUT /tickets/{team}/assignees": (_assign, (200, 200, 404, 403, 200)),
    "POST /tickets/{team}/comments": (
        lambda w, p: w.client.post(f"/tickets/{w.team_ticket()['id']}/comments", w.token(p),
                                   json={"body": "hi"}),
        (201, 201, 404, 201, 201)),
    "POST /tickets with team_id": (_create_ticket(lambda w: {"team_id": w.team["id"]}),
                                   (201, 201, 403, 403, 201)),
    "POST /tickets with parent_id": (
        _create_ticket(lambda w: {"parent_id": w.team_ticket()["id"]}),
        (201, 201, 403, 403, 403)),
    "GET /tickets?team_id=": (_get(lambda w: f"/tickets?team_id={w.team['id']}"),
                              (200, 200, 200, 200, 200)),
    "GET /tickets?parent_id=": (_get(lambda w: f"/tickets?parent_id={w.team_ticket()['id']}"),
                                (200, 200, 200, 200, 200)),
    "GET /stats?team_id=": (_get(lambda w: f"/stats?team_id={w.team['id']}"),
                            (200, 200, 403, 403, 200)),
    "GET /stats": (_get(lambda w: "/stats"), (200, 200, 403, 403, 403)),
    "GET /events?actor_id=": (_get(lambda w: f"/events?actor_id={w.lead.id}"),
                              (200, 403, 403, 403, 403)),
}


def _account(client: Client, name: str, email: str) -> Account:
    user = client.register(name, email)
    return Account(user["id"], email, client.login(email))


@pytest.fixture(scope="module")
def world(client: Client, accounts: Accounts, project: dict[str, Any]) -> World:
    lead = _account(client, "Leah Lead", "leah@example.com")
    member = _account(client, "Mia Member", "mia@example.com")
    admin = accounts.admin.token
    team = client.post("/teams", admin, json={"name": "Matrix", "lead_id": lead.id}).json()
    response = client.put(f"/teams/{team['id']}/members", admin,
                          json={"user_ids": [lead.id, member.id]})
    assert response.status_code == 200, response.text
    return World(client, accounts, project, team, member, lead)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_persona_gets_the_expected_status(world: World, endpoint: str, persona: str) -> None:
    call, expected = MATRIX[endpoint]
    response = call(world, persona)
    wanted = expected[PERSONAS.index(persona)]
    assert response.status_code == wanted, f"{persona} {endpoint}: {response.text}"


def test_what_a_team_member_lists_is_its_team_tickets_and_its_own(world: World) -> None:
    mine = new_ticket(world.client, world.member.token, world.project["id"], title="Mine")
    theirs = world.team_ticket()
    hidden = new_ticket(world.client, world.accounts.developer.token, world.project["id"])
    seen = {t["id"] for t in world.client.get("/tickets?limit=100",
                                              world.member.token).json()["items"]}
    assert {mine["id"], theirs["id"]} <= seen
    assert hidden["id"] not in seen
