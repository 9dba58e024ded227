"""Dashboard figures over tickets."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import get
from litestar.params import Parameter

from api.context import Context
from api.errors import invalid, problem_responses
from api.headers import MinPosition
from api.reads import reading, waits_for
from commands.errors import Forbidden
from commands.permissions import Actor
from projections import stats as stats_model
from projections import users
from projections.stats import Stats, StatsFilters

# The figures, and the users who name `by_assignee`.
READS = (stats_model.StatsProjection.name, users.UsersProjection.name)


@get(
    "/stats",
    tags=["stats"],
    sync_to_thread=True,
    summary="Ticket figures (admins, developers, and a team's lead for its team)",
    description="Counts by status, priority and type of the tickets created within "
    "[`from`, `to`] (UTC days), tickets created and resolved per day, and the median time to "
    "resolve (null when nothing was resolved). A ticket is resolved on the day it first "
    "enters `resolved` or `closed`. `by_assignee` gives the same figures per current "
    "assignee. A team's lead may ask for its team's figures (`team_id`); other reporters, "
    "who see only some tickets, get 403.",
    responses=problem_responses(401, 403, 422, 503),
)
def get_stats(
    context: Context,
    actor: Actor,
    project_id: UUID | None = None,
    team_id: UUID | None = None,
    from_: Annotated[date | None, Parameter(query="from")] = None,
    to: date | None = None,
    min_position: MinPosition = None,
) -> Stats:
    if not actor.works_team(team_id):
        raise Forbidden("a reporter sees only some tickets, so no figures over all of them; "
                        "a team's lead may ask for its team's (team_id)")
    if to == date.max:
        # The window ends at the start of the day after `to`, which this date does not have.
        raise invalid("to", f"must be before {date.max.isoformat()}")
    with reading(context, READS, min_position) as conn:
        filters = StatsFilters(project_id=project_id, team_id=team_id, from_=from_, to=to)
        return stats_model.stats(conn, filters)


ROUTES = [get_stats]
waits_for(READS, get_stats)
