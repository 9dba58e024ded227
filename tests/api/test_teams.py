"""Teams over HTTP, as API.md "Teams" writes them: forming and changing them, members who see the
team's tickets whatever their role, the lead's powers, figures by team and by assignee."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import Account, Accounts, Client, new_ticket
from tests.api.test_happy_paths import RFC3339_UTC
from tests.api.test_links import problem

TEAM_FIELDS = {"id", "name", "lead_id", "lead", "member_ids", "members", "created_at",
               "updated_at"}


@dataclass(frozen=True)
class Crew:
    """A team whose lead and member are reporters by role: whatever they may do more than a
    reporter, the team gives them."""

    team: dict[str, Any]
    lead: Account
    member: Account


def account(client: Client, name: str, email: str) -> Account:
    user = client.register(name, email)
    return Account(user["id"], email, client.login(email))


@pytest.fixture(scope="module")
def crew(client: Client, accounts: Accounts) -> Crew:
    lead = account(client, "Lena Lead", "lena@example.com")
    member = account(client, "Milo Member", "milo@example.com")
    admin = accounts.admin.token
    team = client.post("/teams", admin, json={"name": "Checkout", "lead_id": lead.id}).json()
    response = client.put(f"/teams/{team['id']}/members", admin,
                          json={"user_ids": [lead.id, member.id]})
    assert response.status_code == 200, response.text
    return Crew(response.json(), lead, member)


def team_ticket(client: Client, accounts: Accounts, project: dict[str, Any], crew: Crew,
                **fields: Any) -> dict[str, Any]:
    return new_ticket(client, accounts.developer.token, project["id"],
                      team_id=crew.team["id"], **fields)


# --- the team itself ------------------------------------------------------------------------------


def test_forming_a_team_answers_it_with_its_lead_among_the_members(
    client: Client, accounts: Accounts
) -> None:
    lead = accounts.developer
    response = client.post("/teams", accounts.admin.token,
                           json={"name": "  Platform  ", "lead_id": lead.id})
    assert response.status_code == 201, response.text
    team = response.json()
    assert set(team) == TEAM_FIELDS
    assert (team["name"], team["lead_id"], team["member_ids"]) == ("Platform", lead.id, [lead.id])
    assert team["lead"] == {"id": lead.id, "name": "Dev Eloper"}
    assert team["members"] == [team["lead"]]
    assert RFC3339_UTC.match(team["created_at"]) and team["updated_at"] is None
    assert response.headers["location"] == f"/teams/{team['id']}"
    assert int(response.headers["trail-position"]) > 0
    assert client.get(f"/teams/{team['id']}", accounts.reporter.token).json() == team


def test_team_names_follow_the_project_rules(client: Client, accounts: Accounts) -> None:
    admin = accounts.admin.token
    assert client.post("/teams", admin, json={"name": "Billing"}).status_code == 201
    problem(client.post("/teams", admin, json={"name": "BILLING"}), 409, "name-taken")
    for name in ("ab", "x" * 101, "line\nbreak", "   "):
        body = problem(client.post("/teams", admin, json={"name": name}), 422)
        assert [e["field"] for e in body["errors"]] == ["name"]
    body = problem(client.post("/teams", admin, json={
        "name": "no", "lead_id": "00000000-0000-4000-8000-0000000000cc", "extra": 1}), 422)
    assert {e["field"] for e in body["errors"]} == {"extra"}
    body = problem(client.post("/teams", admin, json={
        "name": "no", "lead_id": "00000000-0000-4000-8000-0000000000cc"}), 422)
    assert {e["field"] for e in body["errors"]} == {"name", "lead_id"}


def test_teams_are_listed_in_order_found_by_name_and_paged(
    client: Client, accounts: Accounts
) -> None:
    admin = accounts.admin.token
    made = [client.post("/teams", admin, json={"name": f"Paged {n}"}).json() for n in range(3)]
    found = client.get("/teams?q=paged&limit=2", accounts.reporter.token).json()
    assert [t["id"] for t in found["items"]] == [made[0]["id"], made[1]["id"]]
    rest = client.get(f"/teams?q=paged&cursor={found['next_cursor']}", admin).json()
    assert [t["id"] for t in rest["items"]] == [made[2]["id"]] and rest["next_cursor"] is None
    problem(client.get("/teams/00000000-0000-4000-8000-0000000000dd", admin), 404)
    problem(client.get("/teams?limit=0", admin), 422)


def test_admins_rename_a_team_and_change_its_lead(client: Client, accounts: Accounts) -> None:
    admin = accounts.admin.token
    old = account(client, "Olga Oldlead", "olga@example.com")
    team = client.post("/teams", admin, json={"name": "Mobile", "lead_id": old.id}).json()
    response = client.patch(f"/teams/{team['id']}", admin,
                            json={"name": "Mobile Apps", "lead_id": accounts.developer.id})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["name"], changed["lead_id"]) == ("Mobile Apps", accounts.developer.id)
    assert changed["member_ids"] == [old.id, accounts.developer.id]
    assert RFC3339_UTC.match(changed["updated_at"])
    cleared = client.patch(f"/teams/{team['id']}", admin, json={"lead_id": None}).json()
    assert (cleared["lead_id"], cleared["lead"]) == (None, None)
    # The old name is free again.
    assert client.post("/teams", admin, json={"name": "mobile"}).status_code == 201


def test_members_are_set_whole_and_keep_the_lead(
    client: Client, accounts: Accounts, crew: Crew
) -> None:
    path = f"/teams/{crew.team['id']}/members"
    lead = crew.lead.token
    body = problem(client.put(path, lead, json={"user_ids": [crew.member.id]}), 422)
    assert [e["field"] for e in body["errors"]] == ["user_ids"]
    body = problem(client.put(path, lead, json={
        "user_ids": [crew.lead.id, "00000000-0000-4000-8000-0000000000ee"]}), 422)
    assert [e["field"] for e in body["errors"]] == ["user_ids"]
    response = client.put(path, lead, json={"user_ids": [crew.lead.id, crew.member.id]})
    assert response.status_code == 200
    assert response.json()["member_ids"] == [crew.lead.id, crew.member.id]


# --- members and the lead on the team's tickets ------------------------------------------------


def test_members_see_the_team_tickets_at_once_whatever_their_role(
    client: Client, accounts: Accounts, project: dict[str, Any], crew: Crew
) -> None:
    ticket = team_ticket(client, accounts, project, crew)
    assert ticket["team_id"] == crew.team["id"]
    for member in (crew.member, crew.lead):
        assert client.get(f"/tickets/{ticket['key']}", member.token).status_code == 200
        listed = client.get(f"/tickets?team_id={crew.team['id']}", member.token).json()
        assert ticket["id"] in {t["id"] for t in listed["items"]}
    problem(client.get(f"/tickets/{ticket['id']}", accounts.reporter.token), 404)
    outsiders = client.get(f"/tickets?team_id={crew.team['id']}", accounts.reporter.token)
    assert outsiders.json()["items"] == []

    # Joining is known to authorization on the very next request, with no read model to wait on.
    newcomer = account(client, "Nina Newcomer", "nina@example.com")
    problem(client.get(f"/tickets/{ticket['id']}", newcomer.token), 404)
    client.put(f"/teams/{crew.team['id']}/members", crew.lead.token,
               json={"user_ids": [crew.lead.id, crew.member.id, newcomer.id]})
    seen = client.http.get(f"/tickets/{ticket['id']}/history",
                           headers={"Authorization": f"Bearer {newcomer.token}"})
    assert seen.status_code == 200
    client.put(f"/teams/{crew.team['id']}/members", crew.lead.token,
               json={"user_ids": [crew.lead.id, crew.member.id]})
    problem(client.get(f"/tickets/{ticket['id']}/history", newcomer.token), 404)


def test_the_lead_works_the_team_tickets_as_a_developer_does(
    client: Client, accounts: Accounts, project: dict[str, Any], crew: Crew
) -> None:
    lead, member = crew.lead.token, crew.member.token
    ticket = team_ticket(client, accounts, project, crew)
    path = f"/tickets/{ticket['id']}"
    for body in ({"status": "in_progress"}, {"priority": "urgent"}):
        assert client.patch(path, lead, json=body).status_code == 200
        problem(client.patch(path, member, json=body), 403)
    assigned = client.put(f"{path}/assignees", lead, json={"user_ids": [accounts.developer.id]})
    assert assigned.status_code == 200
    problem(client.put(f"{path}/assignees", member, json={"user_ids": []}), 403)
    # Links and parents stay with developers and admins.
    other = team_ticket(client, accounts, project, crew)
    problem(client.post(f"{path}/links", lead, json={"type": "blocks", "ticket_id": other["id"]}),
            403)
    problem(client.patch(path, lead, json={"parent_id": other["id"]}), 403)
    # The lead takes a ticket out of the team, but puts none in another.
    billing = client.post("/teams", accounts.admin.token, json={"name": "Elsewhere"}).json()
    problem(client.patch(path, lead, json={"team_id": billing["id"]}), 403)
    problem(client.patch(path, member, json={"team_id": None}), 403)
    out = client.patch(path, lead, json={"team_id": None})
    assert out.status_code == 200 and out.json()["team_id"] is None
    assert client.get(path, accounts.admin.token).json()["team_id"] is None


def test_a_lead_files_tickets_into_its_team_and_a_reporter_into_none(
    client: Client, accounts: Accounts, project: dict[str, Any], crew: Crew
) -> None:
    body = {"project_id": project["id"], "title": "Into the team", "team_id": crew.team["id"]}
    response = client.post("/tickets", crew.lead.token, json=body)
    assert response.status_code == 201 and response.json()["team_id"] == crew.team["id"]
    problem(client.post("/tickets", crew.member.token, json=body), 403)
    problem(client.post("/tickets", accounts.reporter.token, json=body), 403)
    unknown = {**body, "team_id": "00000000-0000-4000-8000-0000000000ff"}
    invalid = problem(client.post("/tickets", accounts.developer.token, json=unknown), 422)
    assert [e["field"] for e in invalid["errors"]] == ["team_id"]


def test_only_admins_change_a_team_and_only_admins_and_its_lead_its_members(
    client: Client, accounts: Accounts, crew: Crew
) -> None:
    path = f"/teams/{crew.team['id']}"
    for token in (crew.lead.token, accounts.developer.token):
        problem(client.patch(path, token, json={"name": "Taken over"}), 403)
    for token in (crew.member.token, accounts.developer.token):
        problem(client.put(f"{path}/members", token, json={"user_ids": [crew.lead.id]}), 403)


# --- figures ----------------------------------------------------------------------------------


def test_stats_by_team_and_by_assignee(
    client: Client, accounts: Accounts, crew: Crew
) -> None:
    admin, dev = accounts.admin, accounts.developer
    project = client.post("/projects", admin.token, json={"name": "Figures"}).json()
    team = client.post("/teams", admin.token, json={"name": "Figures Team",
                                                   "lead_id": crew.lead.id}).json()
    made = [new_ticket(client, dev.token, project["id"], team_id=team["id"],
                       assignee_ids=ids)
            for ids in ([dev.id], [dev.id, admin.id], [admin.id])]
    new_ticket(client, dev.token, project["id"], assignee_ids=[dev.id])  # not the team's
    for status in ("in_progress", "resolved"):
        client.patch(f"/tickets/{made[1]['id']}", dev.token, json={"status": status})

    response = client.get(f"/stats?team_id={team['id']}", crew.lead.token)
    assert response.status_code == 200, response.text
    figures = response.json()
    assert sum(figures["by_status"].values()) == 3
    assert figures["by_status"]["resolved"] == 1
    by_user = {a["user"]["id"]: a for a in figures["by_assignee"]}
    assert by_user[dev.id]["user"]["name"] == "Dev Eloper"
    assert {u: (a["open"], a["resolved"]) for u, a in by_user.items()} == {
        dev.id: (1, 1), admin.id: (1, 1)}
    assert by_user[dev.id]["median_seconds_to_resolve"] >= 0
    everything = client.get(f"/stats?project_id={project['id']}", dev.token).json()
    assert {a["user"]["id"]: a["open"] for a in everything["by_assignee"]}[dev.id] == 2
    problem(client.get("/stats", crew.lead.token), 403)
    problem(client.get(f"/stats?team_id={team['id']}", crew.member.token), 403)
