"""Tickets: the list (filters, search, sorts, keyset pages, bookmarkable URLs), the ticket page
(now, or as it was after any event), and the forms that change a ticket.

Every change goes through `commands.tickets`, which decides who may see and do what (the same
rules as the API); the page only leaves out what the person's role may not change, so that
nobody is offered a button that can only fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import Parameter
from msgspec import UNSET
from psycopg import Connection
from psycopg.rows import DictRow

from commands.errors import NotFound, VersionMismatch
from commands.messages import AssignTicket, CommentOnTicket, CreateTicket, EditComment, EditTicket
from commands.permissions import Actor
from domain.errors import InvalidFields, NameTaken, ProjectArchived, TransitionNotAllowed
from domain.ticket import Ticket
from domain.values import WORKFLOW, Priority, Status, TicketType
from eventlog import audit
from projections import present, projects, tickets, users
from projections.errors import InvalidQuery
from projections.projects import ProjectFilters, ProjectView
from projections.tickets import TicketFilters, TicketView
from projections.users import UserFilters, UserRef, UserView
from web.forms import Form
from web.timetravel import people_in, timeline, word_diff
from web.visit import Web, visit_of

LIST_READS = (tickets.TicketsProjection.name, users.UsersProjection.name,
              projects.ProjectsProjection.name)
PEOPLE_READS = (users.UsersProjection.name,)

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
TRANSITION_VERBS = {
    Status.IN_PROGRESS: "Start progress",
    Status.RESOLVED: "Resolve",
    Status.CLOSED: "Close",
    Status.OPEN: "Reopen",
}

Query = Annotated[str | None, Parameter(required=False)]


def choices(enum: type[Status] | type[Priority] | type[TicketType]) -> list[tuple[str, str]]:
    from web.render import label

    return [(member.value, label(member.value)) for member in enum]


def all_projects(conn: Connection[DictRow]) -> list[ProjectView]:
    found: list[ProjectView] = []
    cursor = None
    while len(found) < 1000:
        page = projects.list_projects(conn, ProjectFilters(), 100, cursor)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def assignable(conn: Connection[DictRow]) -> list[UserView]:
    return users.list_users(conn, UserFilters(assignable=True), 100).items


# ---------------------------------------------------------------------------- the list


@get("/", sync_to_thread=False)
def home(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    return web.redirect(request, "/t")


@dataclass
class ListQuery:
    """The list's filters as the URL spells them: keys for projects, `me` for oneself."""

    q: str | None = None
    project: str | None = None
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


def _enum(cls: type[Any], value: str | None, field: str) -> Any:
    if not value:
        return None
    try:
        return cls(value)
    except ValueError:
        raise InvalidQuery(field, f"must be one of {', '.join(m.value for m in cls)}") from None


@get("/t", sync_to_thread=True)
def ticket_list(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    q: Query = None,
    project: Query = None,
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
    query = ListQuery(q=(q or "").strip()[:200] or None, project=project, status=status,
                      priority=priority, type=ticket_type, tag=(tag or "").strip() or None,
                      assignee=assignee, reporter=reporter, due_before=due_before,
                      sort=sort or DEFAULT_SORT, cursor=cursor or None)
    visit = visit_of(request)
    with web.reading(visit, LIST_READS) as conn:
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
        filters = TicketFilters(
            project_id=project_id,
            status=_enum(Status, query.status, "status"),
            priority=_enum(Priority, query.priority, "priority"),
            type=_enum(TicketType, query.type, "type"),
            tag=query.tag,
            assignee_id=_person(query.assignee, actor, "assignee"),
            reporter_id=_person(query.reporter, actor, "reporter"),
            q=query.q,
            due_before=before,
            sort=query.sort,
        )
        page = tickets.list_tickets(conn, filters, actor, PAGE_SIZE, query.cursor)
        people = assignable(conn) if actor.works_tickets else []
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
        "named": named,
        "sorts": SORTS,
        "statuses": choices(Status),
        "priorities": choices(Priority),
        "types": choices(TicketType),
        "today": date.today(),
    })


# ---------------------------------------------------------------------------- new ticket


@get("/t/new", sync_to_thread=True)
def new_ticket_page(request: Request[Any, Any, Any], web: Web, actor: Actor,
                    project: Query = None) -> Response[Any]:
    form = Form({"priority": Priority.MEDIUM.value, "type": TicketType.BUG.value})
    with web.reading(visit_of(request), LIST_READS) as conn:
        open_projects = [p for p in all_projects(conn) if not p.archived]
        if project:
            chosen = next((p for p in open_projects if p.key == project.upper()), None)
            if chosen:
                form.values["project_id"] = str(chosen.id)
        people = assignable(conn) if actor.works_tickets else []
    return _ticket_form(request, web, actor, form, open_projects, people)


def _ticket_form(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    form: Form,
    open_projects: list[ProjectView],
    people: list[UserView],
    *,
    status_code: int = 200,
    notice: str | None = None,
) -> Response[Any]:
    return web.page(request, "ticket_new.html", {
        "title": "New ticket",
        "form": form,
        "projects": open_projects,
        "people": people,
        "priorities": choices(Priority),
        "types": choices(TicketType),
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
        )
        try:
            outcome = web.commands.tickets.create(actor, command)
        except InvalidFields as error:
            form.fail(error)
        except ProjectArchived:
            form.errors["project_id"] = "is archived: it takes no new tickets"
        else:
            visit = visit_of(request)
            visit.wrote(outcome.position)
            with web.services.pool.connection() as conn:
                key = present.ticket_view(conn, outcome.aggregate).key
            visit.say("created", key)
            return web.redirect(request, f"/t/{key}")
    with web.reading(visit_of(request), LIST_READS) as conn:
        open_projects = [p for p in all_projects(conn) if not p.archived]
        people = assignable(conn) if actor.works_tickets else []
    return _ticket_form(request, web, actor, form, open_projects, people, status_code=400,
                        notice=notice)


# ---------------------------------------------------------------------------- one ticket


def _resolve(web: Web, key: str) -> UUID:
    with web.services.pool.connection() as conn:
        found = present.find_ticket(conn, key)
    if found is None:
        raise NotFound("no such ticket")
    return found


def _load(web: Web, actor: Actor, key: str, version: int | None = None
          ) -> tuple[Ticket, TicketView]:
    ticket_id = _resolve(web, key)
    ticket = web.commands.tickets.get(actor, ticket_id, version=version)
    with web.services.pool.connection() as conn:
        view = present.ticket_view(conn, ticket)
    return ticket, view


@get("/t/{key:str}", sync_to_thread=True)
def ticket_page(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    key: str,
    version: Annotated[str | None, Parameter(query="version", required=False)] = None,
) -> Response[Any]:
    ticket_id = _resolve(web, key)
    current = web.commands.tickets.get(actor, ticket_id)
    chosen: int | None = None
    if version:
        if not version.isdigit() or not 1 <= int(version) <= current.version:
            raise NotFound("no such version of the ticket")
        chosen = int(version)
        if chosen == current.version:
            chosen = None
    with web.services.pool.connection() as conn:
        now_view = present.ticket_view(conn, current)
        if now_view.key != key:
            # One address per ticket: `/t/web-42` and its id lead to `/t/WEB-42`.
            suffix = f"?version={chosen}" if chosen else ""
            return web.redirect(request, f"/t/{now_view.key}{suffix}")
        entries = audit.ticket_history(conn, ticket_id)
        shown = current if chosen is None else audit.ticket_at_version(conn, ticket_id, chosen)
        if shown is None:
            raise NotFound("no such version of the ticket")
        before = (audit.ticket_at_version(conn, ticket_id, chosen - 1)
                  if chosen and chosen > 1 else None)
        comment_authors = [c.author_id for c in shown.comments.values()]
        people = present.refs(conn, {*people_in(entries), *comment_authors,
                                     shown.reporter_id, *shown.assignee_ids})
        view = present.ticket_view(conn, shown) if chosen else now_view
        project = web.commands.projects.get(current.project_id)
        candidates = assignable(conn) if actor.works_tickets and chosen is None else []
    moments = timeline(entries, people)
    at = moments[(chosen or current.version) - 1] if moments else None
    changed = at.fields if at else set()
    description_diff = None
    if chosen and "description" in changed and before is not None:
        description_diff = word_diff(before.description or "", shown.description or "")
    # The comment the chosen event wrote or rewrote: its time is the event's own.
    touched = at.at if chosen and at and "comment" in changed else None
    comments = [
        {"id": c.id, "author": people.get(c.author_id) or UserRef(c.author_id, ""),
         "body": c.body, "created_at": c.created_at, "edited_at": c.edited_at,
         "mine": c.author_id == actor.id,
         "changed": touched is not None and touched in (c.created_at, c.edited_at)}
        for c in sorted(shown.comments.values(), key=lambda c: c.created_at)
    ]
    return web.page(request, "ticket.html", {
        "title": f"{view.key} {view.title}",
        "t": view,
        "project": project,
        "comments": comments,
        "moments": moments,
        "at": at,
        "version": chosen or current.version,
        "latest": current.version,
        "past": chosen is not None,
        "changed": changed,
        "description_diff": description_diff,
        "transitions": sorted(WORKFLOW[current.status], key=lambda s: list(Status).index(s)),
        "verbs": TRANSITION_VERBS,
        "candidates": candidates,
        "can_work": actor.works_tickets,
        "form": Form(),
    })


def _after_change(request: Request[Any, Any, Any], web: Web, key: str, position: int,
                  flash: str) -> Response[Any]:
    visit = visit_of(request)
    visit.wrote(position)
    visit.say(flash)
    return web.redirect(request, f"/t/{key}")


def _expected(form: Form) -> int | None:
    text = form.text("version")
    return int(text) if text.isdigit() else None


@post("/t/{key:str}/status", sync_to_thread=True)
def change_status(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                  ) -> Response[Any]:
    form = Form.of(request)
    status = _enum(Status, form.text("status"), "status")
    if status is None:
        raise InvalidQuery("status", "must be chosen")
    ticket_id = _resolve(web, key)
    outcome = web.commands.tickets.edit(actor, EditTicket(
        ticket_id=ticket_id, status=status, expected_version=_expected(form)))
    return _after_change(request, web, key, outcome.position, "saved")


@post("/t/{key:str}/assignees", sync_to_thread=True)
def change_assignees(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                     ) -> Response[Any]:
    form = Form.of(request)
    ticket_id = _resolve(web, key)
    if form.text("me") == "1":
        current = web.commands.tickets.get(actor, ticket_id)
        ids = [*current.assignee_ids, actor.id] if actor.id not in current.assignee_ids else list(
            current.assignee_ids)
    else:
        ids = form.uuids("assignee_ids")
    try:
        outcome = web.commands.tickets.assign(actor, AssignTicket(
            ticket_id=ticket_id, user_ids=tuple(ids), expected_version=_expected(form)))
    except InvalidFields as error:
        raise InvalidQuery("assignee_ids", error.errors[0].message) from None
    return _after_change(request, web, key, outcome.position, "saved")


@post("/t/{key:str}/comments", sync_to_thread=True)
def add_comment(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                ) -> Response[Any]:
    form = Form.of(request)
    ticket_id = _resolve(web, key)
    try:
        outcome = web.commands.tickets.comment(actor, CommentOnTicket(
            ticket_id=ticket_id, body=form.text("body")))
    except InvalidFields as error:
        form.fail(error)
        _, view = _load(web, actor, key)
        return web.page(request, "comment_form.html", {
            "title": f"Comment on {view.key}", "t": view, "form": form, "comment": None,
        }, status_code=400)
    visit = visit_of(request)
    visit.wrote(outcome.position)
    visit.say("commented")
    return web.redirect(request, f"/t/{key}#comment-{outcome.id}")


@get("/t/{key:str}/comments/{comment_id:uuid}/edit", sync_to_thread=True)
def edit_comment_page(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str,
                      comment_id: UUID) -> Response[Any]:
    ticket, view = _load(web, actor, key)
    comment = ticket.comments.get(comment_id)
    if comment is None:
        raise NotFound("no such comment")
    if comment.author_id != actor.id:
        from domain.errors import NotCommentAuthor

        raise NotCommentAuthor("only the author of a comment may edit it")
    return web.page(request, "comment_form.html", {
        "title": f"Edit your comment on {view.key}", "t": view,
        "form": Form({"body": comment.body, "version": str(ticket.version)}),
        "comment": comment,
    })


@post("/t/{key:str}/comments/{comment_id:uuid}/edit", sync_to_thread=True)
def edit_comment(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str,
                 comment_id: UUID) -> Response[Any]:
    form = Form.of(request)
    ticket_id = _resolve(web, key)
    try:
        outcome = web.commands.tickets.edit_comment(actor, EditComment(
            ticket_id=ticket_id, comment_id=comment_id, body=form.text("body")))
    except InvalidFields as error:
        form.fail(error)
        ticket, view = _load(web, actor, key)
        return web.page(request, "comment_form.html", {
            "title": f"Edit your comment on {view.key}", "t": view, "form": form,
            "comment": ticket.comments.get(comment_id),
        }, status_code=400)
    visit = visit_of(request)
    visit.wrote(outcome.position)
    visit.say("comment-saved")
    return web.redirect(request, f"/t/{key}#comment-{comment_id}")


# ---------------------------------------------------------------------------- edit


@get("/t/{key:str}/edit", sync_to_thread=True)
def edit_page(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
              ) -> Response[Any]:
    _, view = _load(web, actor, key)
    form = Form({
        "title": view.title,
        "description": view.description or "",
        "priority": view.priority.value,
        "type": view.type.value,
        "tags": " ".join(view.tags),
        "due_date": view.due_date.isoformat() if view.due_date else "",
        "version": str(view.version),
    })
    return _edit_form(request, web, actor, view, form)


def _edit_form(request: Request[Any, Any, Any], web: Web, actor: Actor, view: TicketView,
               form: Form, *, status_code: int = 200, notice: str | None = None
               ) -> Response[Any]:
    return web.page(request, "ticket_edit.html", {
        "title": f"Edit {view.key}",
        "t": view,
        "form": form,
        "priorities": choices(Priority),
        "types": choices(TicketType),
        "can_work": actor.works_tickets,
        "notice": notice,
    }, status_code=status_code)


@post("/t/{key:str}/edit", sync_to_thread=True)
def edit_ticket(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                ) -> Response[Any]:
    form = Form.of(request)
    ticket_id = _resolve(web, key)
    due = form.date("due_date")
    kind = form.choice("type", [t.value for t in TicketType])
    priority = (form.choice("priority", [p.value for p in Priority])
                if actor.works_tickets else None)
    notice = None
    if form.ok:
        command = EditTicket(
            ticket_id=ticket_id,
            title=form.text("title"),
            description=form.optional("description"),
            type=TicketType(kind) if kind else UNSET,
            priority=Priority(priority) if priority else UNSET,
            tags=form.tags("tags"),
            due_date=due,
            expected_version=_expected(form),
        )
        try:
            outcome = web.commands.tickets.edit(actor, command)
        except InvalidFields as error:
            form.fail(error)
        except VersionMismatch as error:
            notice = (f"Someone changed this ticket while you were editing it (it is now at "
                      f"version {error.actual}). Your changes are below, not saved: open the "
                      f"ticket in a new tab to see what changed, then save again.")
            form.values["version"] = str(error.actual)
        except (TransitionNotAllowed, ProjectArchived, NameTaken) as error:
            notice = str(error)
        else:
            return _after_change(request, web, key, outcome.position, "saved")
    _, view = _load(web, actor, key)
    return _edit_form(request, web, actor, view, form, status_code=409 if notice else 400,
                      notice=notice)


ROUTES = [home, ticket_list, new_ticket_page, create_ticket, ticket_page, change_status,
          change_assignees, add_comment, edit_comment_page, edit_comment, edit_page,
          edit_ticket]
