"""Admin pages for teams: form one (a name and a lead), rename it, change its lead, set its
members. Each is the API's own command (`commands.teams`); members see the team's tickets from
their next page, since each member's account carries its teams (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from msgspec import UNSET
from psycopg import Connection
from psycopg.rows import DictRow

from commands.errors import NotFound
from commands.messages import ChangeTeam, CreateTeam, SetTeamMembers
from commands.permissions import Actor
from domain.errors import InvalidFields, NameTaken
from domain.values import UserStatus
from projections import teams, users
from projections.users import UserFilters, UserView
from web.forms import Form
from web.pages.admin_base import admin_page, require_admin
from web.pages.common import after_change, all_teams
from web.site import Web
from web.visit import visit_of

READS = (teams.TeamsProjection.name, users.UsersProjection.name)
# The field the form calls `lead` is the domain's `lead_id`; members are `user_ids`.
RENAME = {"lead_id": "lead", "user_ids": "members"}


def active_people(conn: Connection[DictRow]) -> list[UserView]:
    found: list[UserView] = []
    cursor = None
    while len(found) < 1000:
        page = users.list_users(conn, UserFilters(status=UserStatus.ACTIVE), 100, cursor)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


@get("/manage/teams", sync_to_thread=True)
def team_list(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    return _teams(request, web, Form())


def _teams(request: Request[Any, Any, Any], web: Web, form: Form, status_code: int = 200
           ) -> Response[Any]:
    with web.reading(visit_of(request), READS) as conn:
        known = all_teams(conn)
        people = active_people(conn)
    return admin_page(request, web, "admin_teams.html", {
        "title": "Teams", "teams": known, "form": form,
        "people": [(str(p.id), p.name) for p in people],
    }, status_code)


@post("/manage/teams", sync_to_thread=True)
def create_team(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    lead = form.uuid("lead")
    if form.ok:
        try:
            outcome = web.commands.teams.create(actor, CreateTeam(name=form.text("name"),
                                                                  lead_id=lead))
        except InvalidFields as error:
            form.fail(error, RENAME)
        except NameTaken:
            form.errors["name"] = "is already taken"
        else:
            return after_change(request, web, f"/manage/teams/{outcome.aggregate.id}",
                                outcome.position, "team-created")
    return _teams(request, web, form, 400)


@get("/manage/teams/{team_id:uuid}", sync_to_thread=True)
def team_page(request: Request[Any, Any, Any], web: Web, actor: Actor, team_id: UUID
              ) -> Response[Any]:
    require_admin(actor)
    return _team(request, web, team_id, Form(), Form())


def _team(request: Request[Any, Any, Any], web: Web, team_id: UUID, form: Form,
          members_form: Form, status_code: int = 200) -> Response[Any]:
    with web.reading(visit_of(request), READS) as conn:
        team = teams.get_team(conn, team_id)
        people = active_people(conn)
    if team is None:
        raise NotFound("no such team")
    if not form.values:
        form.values = {"name": team.name, "lead": str(team.lead_id or "")}
    chosen = set(members_form.many("members")) if members_form.values else {
        str(m) for m in team.member_ids}
    return admin_page(request, web, "admin_team.html", {
        "title": f"Team {team.name}", "team": team, "form": form,
        "members_form": members_form, "people": people, "chosen": chosen,
        "leads": [(str(p.id), p.name) for p in people],
    }, status_code)


@post("/manage/teams/{team_id:uuid}", sync_to_thread=True)
def change_team(request: Request[Any, Any, Any], web: Web, actor: Actor, team_id: UUID
                ) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    lead = form.uuid("lead")
    if form.ok:
        try:
            outcome = web.commands.teams.change(actor, ChangeTeam(
                team_id=team_id, name=form.text("name"),
                lead_id=lead if "lead" in form.values else UNSET))
        except InvalidFields as error:
            form.fail(error, RENAME)
        except NameTaken:
            form.errors["name"] = "is already taken"
        else:
            return after_change(request, web, f"/manage/teams/{team_id}", outcome.position,
                                "team-saved")
    return _team(request, web, team_id, form, Form(), 400)


@post("/manage/teams/{team_id:uuid}/members", sync_to_thread=True)
def set_members(request: Request[Any, Any, Any], web: Web, actor: Actor, team_id: UUID
                ) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    members = form.uuids("members")
    if form.ok:
        try:
            outcome = web.commands.teams.set_members(actor, SetTeamMembers(
                team_id=team_id, user_ids=tuple(members)))
        except InvalidFields as error:
            form.fail(error, RENAME)
        else:
            return after_change(request, web, f"/manage/teams/{team_id}", outcome.position,
                                "members-saved")
    # Sent back as chosen, with the error: `many` keeps an empty choice as no members.
    form.values.setdefault("members", [])
    return _team(request, web, team_id, Form(), form, 400)


ROUTES = [team_list, create_team, team_page, change_team, set_members]
