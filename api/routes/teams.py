"""Teams: formed and changed by admins, members set by admins or the team's lead, read by all."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, get, patch, post, put
from litestar.params import Parameter
from msgspec import UNSET, UnsetType

from api.context import Context
from api.errors import problem_responses
from api.headers import LOCATION, TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.people import refs
from api.reads import reading, waits_for
from api.responses import answer
from commands.base import Outcome
from commands.errors import NotFound
from commands.messages import ChangeTeam, CreateTeam, SetTeamMembers
from commands.permissions import Actor
from domain.team import Team
from projections import teams, users
from projections.paging import Page
from projections.teams import TeamFilters, TeamView

TAGS = ["teams"]
READS = (teams.TeamsProjection.name, users.UsersProjection.name)


class TeamCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str
    lead_id: UUID | None = None


class TeamPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change; `lead_id: null` leaves the team without a lead."""

    name: str | UnsetType = UNSET
    lead_id: UUID | UnsetType | None = UNSET


class Members(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    user_ids: list[UUID]


def _team_answer(context: Context, outcome: Outcome[Team], status_code: int = 200
                 ) -> Response[TeamView]:
    team = outcome.aggregate
    people = refs(context, [*team.member_ids])
    location = f"/teams/{team.id}" if status_code == 201 else None
    return answer(teams.view_of(team, people), outcome.position, status_code=status_code,
                  location=location)


@post(
    "/teams",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Form a team (admin)",
    description="name 3..100 characters, unique ignoring case (409); `lead_id` an active "
    "user (else 422), who is a member from the start.",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
)
def create_team(data: TeamCreate, context: Context, actor: Actor) -> Response[TeamView]:
    outcome = context.commands.teams.create(actor, CreateTeam(name=data.name,
                                                              lead_id=data.lead_id))
    return _team_answer(context, outcome, 201)


@get(
    "/teams",
    tags=TAGS,
    sync_to_thread=True,
    summary="List teams",
    description="In the order they were formed; `q` matches the name.",
    responses=problem_responses(401, 422, 503),
)
def list_teams(
    context: Context,
    q: Annotated[str | None, Parameter(max_length=200)] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[TeamView]:
    with reading(context, READS, min_position) as conn:
        return teams.list_teams(conn, TeamFilters(q=q), limit, cursor)


@get(
    "/teams/{team_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Read a team",
    responses=problem_responses(401, 404, 422, 503),
)
def get_team(team_id: UUID, context: Context, min_position: MinPosition = None) -> TeamView:
    with reading(context, READS, min_position) as conn:
        found = teams.get_team(conn, team_id)
    if found is None:
        raise NotFound("no such team")
    return found


@patch(
    "/teams/{team_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Rename a team or change its lead (admin)",
    description="A new lead becomes a member; the old lead stays one.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
def change_team(
    team_id: UUID, data: TeamPatch, context: Context, actor: Actor
) -> Response[TeamView]:
    command = ChangeTeam(team_id=team_id, name=data.name, lead_id=data.lead_id)
    return _team_answer(context, context.commands.teams.change(actor, command))


@put(
    "/teams/{team_id:uuid}/members",
    tags=TAGS,
    sync_to_thread=True,
    summary="Set a team's members (admin or the team's lead)",
    description="The full new list; it must include the lead (else 422), and everyone new "
    "must be an active user (else 422). Members see the team's tickets from their next "
    "request.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
def set_members(
    team_id: UUID, data: Members, context: Context, actor: Actor
) -> Response[TeamView]:
    command = SetTeamMembers(team_id=team_id, user_ids=tuple(data.user_ids))
    return _team_answer(context, context.commands.teams.set_members(actor, command))


ROUTES = [create_team, list_teams, get_team, change_team, set_members]
waits_for(READS, list_teams, get_team)
