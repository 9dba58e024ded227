"""What the ticket pages share: finding a ticket by its key (as the person may see it), the
choices of a field, the projects and the people a form offers, and the answer after a change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from litestar import Request, Response
from litestar.params import Parameter
from psycopg import Connection
from psycopg.rows import DictRow

from commands.errors import NotFound
from commands.permissions import Actor
from domain.ticket import Ticket
from domain.values import Priority, Status, TicketType
from projections import present, projects, teams, tickets, users
from projections.errors import InvalidQuery
from projections.paging import Page
from projections.projects import ProjectFilters, ProjectView
from projections.teams import TeamFilters, TeamView
from projections.tickets import TicketView
from projections.users import UserFilters, UserView
from web.forms import Form
from web.render import label
from web.site import Web
from web.visit import visit_of

T = TypeVar("T")

LIST_READS = (tickets.TicketsProjection.name, users.UsersProjection.name,
              projects.ProjectsProjection.name)

Query = Annotated[str | None, Parameter(required=False)]


def choices(enum: type[Status] | type[Priority] | type[TicketType]) -> list[tuple[str, str]]:
    return [(member.value, label(member.value)) for member in enum]


def enum_of(cls: type[Any], value: str | None, field: str) -> Any:
    if not value:
        return None
    try:
        return cls(value)
    except ValueError:
        raise InvalidQuery(field, f"must be one of {', '.join(m.value for m in cls)}") from None


def all_projects(conn: Connection[DictRow]) -> list[ProjectView]:
    return _every(lambda cursor: projects.list_projects(conn, ProjectFilters(), 100, cursor))


def all_teams(conn: Connection[DictRow]) -> list[TeamView]:
    return _every(lambda cursor: teams.list_teams(conn, TeamFilters(), 100, cursor))


def _every(page_after: Callable[[str | None], Page[T]]) -> list[T]:
    """Every item of a keyset-paged list, for a form's choices (at most about a thousand)."""
    found: list[T] = []
    cursor = None
    while len(found) < 1000:
        page = page_after(cursor)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def assignable(conn: Connection[DictRow]) -> list[UserView]:
    return users.list_users(conn, UserFilters(assignable=True), 100).items


def resolve(web: Web, key: str) -> UUID:
    """The id of the ticket a key (or id) names; whether the person may see it is the
    command's question."""
    with web.services.pool.connection() as conn:
        found = present.find_ticket(conn, key)
    if found is None:
        raise NotFound("no such ticket")
    return found


def load(web: Web, actor: Actor, key: str) -> tuple[Ticket, TicketView]:
    """The ticket now, from the write side (404 when the person may not see it)."""
    ticket = web.commands.tickets.get(actor, resolve(web, key))
    with web.services.pool.connection() as conn:
        view = present.ticket_view(conn, ticket)
    return ticket, view


def expected(form: Form) -> int | None:
    """The version the page showed, so a change made meanwhile is not overwritten."""
    text = form.text("version")
    return int(text) if text.isdigit() else None


def after_change(request: Request[Any, Any, Any], web: Web, target: str, position: int,
                 flash: str, *args: str) -> Response[Any]:
    visit = visit_of(request)
    visit.wrote(position)
    visit.say(flash, *args)
    return web.redirect(request, target)
