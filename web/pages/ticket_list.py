"""The ticket list: filters, full-text search, sorts and keyset pages, every view a URL to
bookmark. What a person sees in it is the tickets model's visibility rule, the SQL form of
`domain.visibility` (one rule for the API and this page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.params import Parameter

from commands.permissions import Actor
from domain.values import Priority, Status, TicketType
from projections import present, tickets
from projections.errors import InvalidQuery
from projections.tickets import TicketFilters
from web.pages.common import (
    LIST_READS,
    Query,
    all_projects,
    all_teams,
    assignable,
    choices,
    enum_of,
)
from web.site import Web
from web.visit import visit_of

SORTS = {
    "-updated_at": "Recently updated",
    "-created_at": "Newest",
    "created_at": "Oldest",
    "priority": "Priority",
    "due_date": "Due date",
    "updated_at": "Least recently updated",
}
PAGE_SIZE = 25
DEFAULT_SORT = "-updated_at"


@get("/", sync_to_thread=False)
def home(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    return web.redirect(request, "/t")


@dataclass
class ListQuery:
    """The list's filters as the URL spells them: keys for projects, `me` for oneself."""

    q: str | None = None
    project: str | None = None
    team: str | None = None
    status: str | None = None
    priority: str | None = None
    type: str | None = None
    tag: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    due_before: str | None = None
    sort: str = "-updated_at"
    cursor: str | None = None

    def params(self) -> dict[str, Any]:
        """What the URL says, without the page and without the default sort."""
        return {k: v for k, v in vars(self).items()
                if k != "cursor" and v not in (None, "") and (k, v) != ("sort", DEFAULT_SORT)}


def _person(value: str | None, actor: Actor, field: str) -> UUID | None:
    if not value:
        return None
    if value == "me":
        return actor.id
    try:
        return UUID(value)
    except ValueError:
        raise InvalidQuery(field, "must be `me` or a user id") from None


@get("/t", sync_to_thread=True)
def ticket_list(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    q: Query = None,
    project: Query = None,
    team: Query = None,
    status: Query = None,
    priority: Query = None,
    ticket_type: Annotated[str | None, Parameter(query="type", required=False)] = None,
    tag: Query = None,
    assignee: Query = None,
    reporter: Query = None,
    due_before: Query = None,
    sort: Query = None,
    cursor: Query = None,
) -> Response[Any]:
    query = ListQuery(q=(q or "").strip()[:200] or None, project=project, team=team, status=status,
                      priority=priority, type=ticket_type, tag=(tag or "").strip() or None,
                      assignee=assignee, reporter=reporter, due_before=due_before,
                      sort=sort or DEFAULT_SORT, cursor=cursor or None)
    visit = visit_of(request)
    with web.reading(visit, (*LIST_READS, "teams")) as conn:
        known_projects = all_projects(conn)
        by_key = {p.key: p for p in known_projects}
        project_id = None
        if query.project:
            found = by_key.get(query.project.upper())
            if found is None:
                raise InvalidQuery("project", "is not the key of a project")
            project_id = found.id
        try:
            before = date.fromisoformat(query.due_before) if query.due_before else None
        except ValueError:
            raise InvalidQuery("due_before", "must be a date (YYYY-MM-DD)") from None
        try:
            team_id = UUID(query.team) if query.team else None
        except ValueError:
            raise InvalidQuery("team", "is not a team id") from None
        filters = TicketFilters(
            project_id=project_id,
            team_id=team_id,
            status=enum_of(Status, query.status, "status"),
            priority=enum_of(Priority, query.priority, "priority"),
            type=enum_of(TicketType, query.type, "type"),
            tag=query.tag,
            assignee_id=_person(query.assignee, actor, "assignee"),
            reporter_id=_person(query.reporter, actor, "reporter"),
            q=query.q,
            due_before=before,
            sort=query.sort,
        )
        page = tickets.list_tickets(conn, filters, actor, PAGE_SIZE, query.cursor)
        people = assignable(conn) if actor.works_tickets else []
        known_teams = all_teams(conn)
        named = present.refs(conn, [u for u in (filters.assignee_id, filters.reporter_id) if u])
    project_names = {p.id: p for p in known_projects}
    return web.page(request, "tickets.html", {
        "title": "Tickets",
        "page": page,
        "query": query,
        "params": query.params(),
        "projects": [p for p in known_projects if not p.archived or p.key == query.project],
        "project_names": project_names,
        "people": people,
        "teams": known_teams,
        "named": named,
        "sorts": SORTS,
        "statuses": choices(Status),
        "priorities": choices(Priority),
        "types": choices(TicketType),
        "today": date.today(),
    })


ROUTES = [home, ticket_list]
