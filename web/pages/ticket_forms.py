"""Filing a ticket and editing one: forms that offer only what the person's role may change
(priority, assignees, parent and team are triage work), with each field's error under its input.

Every change goes through `commands.tickets`, which decides who may do what (the same rules as
the API); leaving a control out only spares people a button that can only fail.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from msgspec import UNSET

from commands.errors import NotFound, VersionMismatch
from commands.messages import CreateTicket, EditTicket
from commands.permissions import Actor
from domain.errors import (
    CycleNotAllowed,
    InvalidFields,
    NameTaken,
    ProjectArchived,
    TicketBlocked,
    TransitionNotAllowed,
)
from domain.values import Priority, TicketType
from projections import present
from projections.projects import ProjectView
from projections.teams import TeamView
from projections.tickets import TicketView
from projections.users import UserView
from web.forms import Form
from web.pages.common import (
    LIST_READS,
    Query,
    after_change,
    all_projects,
    all_teams,
    assignable,
    choices,
    expected,
    load,
    resolve,
)
from web.site import Web
from web.visit import visit_of

# What the domain calls a field, where the form's input has another name.
RENAME = {"parent_id": "parent", "team_id": "team"}


def _teams_for(actor: Actor, known: list[TeamView]) -> list[TeamView]:
    """The teams the person may put a ticket in: any for developers and admins, its own led
    teams for a team's lead, none for anyone else."""
    if actor.works_tickets:
        return known
    return [t for t in known if t.id in actor.led_team_ids]


def _choices(web: Web, request: Request[Any, Any, Any], actor: Actor
             ) -> tuple[list[ProjectView], list[UserView], list[TeamView]]:
    with web.reading(visit_of(request), (*LIST_READS, "teams")) as conn:
        open_projects = [p for p in all_projects(conn) if not p.archived]
        people = assignable(conn) if actor.works_tickets else []
        teams = _teams_for(actor, all_teams(conn))
    return open_projects, people, teams


def _parent(web: Web, actor: Actor, form: Form) -> UUID | None:
    """The parent a person typed by key; an error under the input for a ticket it cannot
    see, as for one that does not exist."""
    text = form.text("parent").strip()
    if not text:
        return None
    try:
        ticket_id = resolve(web, text)
        web.commands.tickets.get(actor, ticket_id)
    except NotFound:
        form.errors["parent"] = "is not the key of a ticket you can see"
        return None
    return ticket_id


def _failed(form: Form, error: Exception) -> str | None:
    """Put a refused change's reason under its input; what belongs to no input is a notice."""
    if isinstance(error, InvalidFields):
        form.fail(error, RENAME)
        return None
    if isinstance(error, CycleNotAllowed):
        form.errors["parent"] = "would make a ticket its own ancestor"
        return None
    return str(error)


# ---------------------------------------------------------------------------- new ticket


@get("/t/new", sync_to_thread=True)
def new_ticket_page(request: Request[Any, Any, Any], web: Web, actor: Actor,
                    project: Query = None, parent: Query = None) -> Response[Any]:
    form = Form({"priority": Priority.MEDIUM.value, "type": TicketType.BUG.value})
    open_projects, people, teams = _choices(web, request, actor)
    if parent and actor.works_tickets:
        # "Add a subtask": the parent's key, and its project chosen.
        _, view = load(web, actor, parent)
        form.values["parent"] = view.key
        project = project or view.key.rsplit("-", 1)[0]
    if project:
        chosen = next((p for p in open_projects if p.key == project.upper()), None)
        if chosen:
            form.values["project_id"] = str(chosen.id)
    return _ticket_form(request, actor, web, form, open_projects, people, teams)


def _ticket_form(
    request: Request[Any, Any, Any],
    actor: Actor,
    web: Web,
    form: Form,
    open_projects: list[ProjectView],
    people: list[UserView],
    teams: list[TeamView],
    *,
    status_code: int = 200,
    notice: str | None = None,
) -> Response[Any]:
    return web.page(request, "ticket_new.html", {
        "title": "New ticket",
        "form": form,
        "projects": open_projects,
        "people": people,
        "team_choices": [(str(t.id), t.name) for t in teams],
        "priorities": choices(Priority),
        "types": choices(TicketType),
        "can_work": actor.works_tickets,
        "notice": notice,
    }, status_code=status_code)


@post("/t/new", sync_to_thread=True)
def create_ticket(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    form = Form.of(request)
    project_id = form.uuid("project_id")
    if project_id is None and "project_id" not in form.errors:
        form.errors["project_id"] = "must be chosen"
    due = form.date("due_date")
    priority = form.choice("priority", [p.value for p in Priority]) or Priority.MEDIUM.value
    kind = form.choice("type", [t.value for t in TicketType]) or TicketType.BUG.value
    assignees = form.uuids("assignee_ids") if actor.works_tickets else []
    parent = _parent(web, actor, form) if actor.works_tickets else None
    team = form.uuid("team") if actor.works_tickets or actor.led_team_ids else None
    notice = None
    if form.ok and project_id is not None:
        command = CreateTicket(
            project_id=project_id,
            title=form.text("title"),
            description=form.optional("description"),
            priority=Priority(priority),
            type=TicketType(kind),
            tags=tuple(form.tags("tags")),
            due_date=due,
            assignee_ids=tuple(assignees),
            parent_id=parent,
            team_id=team,
        )
        try:
            outcome = web.commands.tickets.create(actor, command)
        except ProjectArchived:
            form.errors["project_id"] = "is archived: it takes no new tickets"
        except (InvalidFields, CycleNotAllowed) as error:
            notice = _failed(form, error)
        else:
            with web.services.pool.connection() as conn:
                key = present.ticket_view(conn, outcome.aggregate).key
            return after_change(request, web, f"/t/{key}", outcome.position, "created", key)
    open_projects, people, teams = _choices(web, request, actor)
    return _ticket_form(request, actor, web, form, open_projects, people, teams,
                        status_code=400, notice=notice)


# ---------------------------------------------------------------------------- edit


@get("/t/{key:str}/edit", sync_to_thread=True)
def edit_page(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
              ) -> Response[Any]:
    _, view = load(web, actor, key)
    parent = ""
    if view.parent_id is not None:
        with web.services.pool.connection() as conn:
            parent = present.ticket_view(
                conn, web.commands.tickets.get(actor, view.parent_id)).key
    form = Form({
        "title": view.title,
        "description": view.description or "",
        "priority": view.priority.value,
        "type": view.type.value,
        "tags": " ".join(view.tags),
        "due_date": view.due_date.isoformat() if view.due_date else "",
        "parent": parent,
        "team": str(view.team_id) if view.team_id else "",
        "version": str(view.version),
    })
    return _edit_form(request, web, actor, view, form)


def _edit_form(request: Request[Any, Any, Any], web: Web, actor: Actor, view: TicketView,
               form: Form, *, status_code: int = 200, notice: str | None = None
               ) -> Response[Any]:
    with web.reading(visit_of(request), ("teams",)) as conn:
        teams = _teams_for(actor, all_teams(conn))
    if view.team_id is not None and view.team_id not in {t.id for t in teams}:
        # A lead editing another team's ticket: that is not theirs to move.
        teams = []
    return web.page(request, "ticket_edit.html", {
        "title": f"Edit {view.key}",
        "t": view,
        "form": form,
        "priorities": choices(Priority),
        "types": choices(TicketType),
        "can_work": actor.works_team(view.team_id),
        "can_link": actor.works_tickets,
        "team_choices": [(str(t.id), t.name) for t in teams],
        "notice": notice,
    }, status_code=status_code)


@post("/t/{key:str}/edit", sync_to_thread=True)
def edit_ticket(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                ) -> Response[Any]:
    form = Form.of(request)
    current, _ = load(web, actor, key)
    due = form.date("due_date")
    kind = form.choice("type", [t.value for t in TicketType])
    priority = (form.choice("priority", [p.value for p in Priority])
                if actor.works_team(current.team_id) else None)
    parent: Any = UNSET
    if actor.works_tickets:
        parent = _parent(web, actor, form)
    team: Any = UNSET
    if (actor.works_tickets or actor.led_team_ids) and "team" in form.values:
        team = form.uuid("team")
        if team == current.team_id:
            team = UNSET
    notice = None
    if form.ok:
        command = EditTicket(
            ticket_id=current.id,
            title=form.text("title"),
            description=form.optional("description"),
            type=TicketType(kind) if kind else UNSET,
            priority=Priority(priority) if priority else UNSET,
            tags=form.tags("tags"),
            due_date=due,
            parent_id=UNSET if parent == current.parent_id else parent,
            team_id=team,
            expected_version=expected(form),
        )
        try:
            outcome = web.commands.tickets.edit(actor, command)
        except VersionMismatch as error:
            notice = (f"Someone changed this ticket while you were editing it (it is now at "
                      f"version {error.actual}). Your changes are below, not saved: open the "
                      f"ticket in a new tab to see what changed, then save again.")
            form.values["version"] = str(error.actual)
        except (InvalidFields, CycleNotAllowed, TransitionNotAllowed, ProjectArchived,
                NameTaken, TicketBlocked) as error:
            notice = _failed(form, error)
        else:
            return after_change(request, web, f"/t/{key}", outcome.position, "saved")
    _, view = load(web, actor, key)
    return _edit_form(request, web, actor, view, form, status_code=409 if notice else 400,
                      notice=notice)


ROUTES = [new_ticket_page, create_ticket, edit_page, edit_ticket]
