"""Admin pages: people (approve, roles, deactivate), projects, and the email outbox (teams and
webhooks have modules of their own).

Each page checks `require_admin` before reading anything, and each change goes through the same
command as the API's, so an admin here can do exactly what an admin there can, and nothing more
(no admin demotes or deactivates itself). Anyone else gets "not found": a reporter or a
developer is not told that the page exists.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import Parameter
from msgspec import UNSET

from commands.errors import Forbidden, NotFound
from commands.messages import ArchiveProject, ChangeUser, CreateProject, ReviseProject
from commands.permissions import Actor
from domain.errors import InvalidFields, NameTaken, TransitionNotAllowed
from domain.values import Role, UserStatus
from projections import projects, users
from projections.errors import InvalidQuery
from projections.outbox import Outbox, rows
from projections.users import UserFilters
from web.forms import Form
from web.pages.admin_base import admin_page, require_admin
from web.pages.common import all_projects
from web.site import Web
from web.visit import visit_of

Query = Annotated[str | None, Parameter(required=False)]

# ---------------------------------------------------------------------------- people


@get("/manage", sync_to_thread=False)
def manage(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    return web.redirect(request, "/manage/users")


@get("/manage/users", sync_to_thread=True)
def people(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    q: Query = None,
    role: Query = None,
    status: Query = None,
    cursor: Query = None,
) -> Response[Any]:
    require_admin(actor)
    try:
        filters = UserFilters(
            role=Role(role) if role else None,
            status=UserStatus(status) if status else None,
            q=(q or "").strip()[:200] or None,
        )
    except ValueError:
        raise InvalidQuery("role", "is not a role or status") from None
    with web.reading(visit_of(request), (users.UsersProjection.name,)) as conn:
        page = users.list_users(conn, filters, 50, cursor or None)
        pending = users.list_users(conn, UserFilters(status=UserStatus.PENDING), 1).items
    params = {k: v for k, v in {"q": filters.q, "role": role, "status": status}.items() if v}
    return admin_page(request, web, "admin_users.html", {
        "title": "People",
        "page": page,
        "params": params,
        "roles": [r.value for r in Role],
        "statuses": [s.value for s in UserStatus],
        "any_pending": bool(pending),
        "filters": filters,
    })


@post("/manage/users/{user_id:uuid}", sync_to_thread=True)
def change_person(request: Request[Any, Any, Any], web: Web, actor: Actor, user_id: UUID
                  ) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    role = form.choice("role", [r.value for r in Role])
    status = form.choice("status", [s.value for s in UserStatus])
    if not form.ok:
        raise InvalidQuery(next(iter(form.errors)), "is not one of the choices")
    try:
        outcome = web.commands.accounts.change_user(actor, ChangeUser(
            user_id=user_id,
            role=Role(role) if role else UNSET,
            status=UserStatus(status) if status else UNSET,
        ))
    except TransitionNotAllowed as error:
        raise Forbidden(str(error)) from None
    visit = visit_of(request)
    visit.wrote(outcome.position)
    visit.say("user-saved")
    back = form.text("back")
    return web.redirect(request, back if back.startswith("/manage/users") else "/manage/users")


# ---------------------------------------------------------------------------- projects


@get("/manage/projects", sync_to_thread=True)
def project_list(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    return _projects(request, web, Form())


def _projects(request: Request[Any, Any, Any], web: Web, form: Form, status_code: int = 200
              ) -> Response[Any]:
    with web.reading(visit_of(request), (projects.ProjectsProjection.name,)) as conn:
        known = all_projects(conn)
    return admin_page(request, web, "admin_projects.html", {
        "title": "Projects", "projects": known, "form": form,
    }, status_code)


@post("/manage/projects", sync_to_thread=True)
def create_project(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    key = form.optional("key")
    try:
        outcome = web.commands.projects.create(actor, CreateProject(
            name=form.text("name"), key=key.upper() if key else None,
            description=form.optional("description"),
        ))
    except InvalidFields as error:
        form.fail(error)
    except NameTaken as error:
        form.errors["key" if "key" in str(error) else "name"] = "is already taken"
    else:
        visit = visit_of(request)
        visit.wrote(outcome.position)
        visit.say("project-created")
        return web.redirect(request, "/manage/projects")
    return _projects(request, web, form, 400)


@get("/manage/projects/{project_id:uuid}", sync_to_thread=True)
def project_page(request: Request[Any, Any, Any], web: Web, actor: Actor, project_id: UUID
                 ) -> Response[Any]:
    require_admin(actor)
    project = web.commands.projects.get(project_id)
    form = Form({"name": project.name, "description": project.description or ""})
    return admin_page(request, web, "admin_project.html", {
        "title": f"Project {project.name}", "project": project, "form": form,
    })


@post("/manage/projects/{project_id:uuid}", sync_to_thread=True)
def revise_project(request: Request[Any, Any, Any], web: Web, actor: Actor, project_id: UUID
                   ) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    visit = visit_of(request)
    if form.text("archive") == "1":
        outcome = web.commands.projects.archive(actor, ArchiveProject(project_id=project_id))
        visit.wrote(outcome.position)
        visit.say("project-archived")
        return web.redirect(request, "/manage/projects")
    try:
        outcome = web.commands.projects.revise(actor, ReviseProject(
            project_id=project_id, name=form.text("name"),
            description=form.optional("description"),
        ))
    except InvalidFields as error:
        form.fail(error)
    except NameTaken:
        form.errors["name"] = "is already taken"
    else:
        visit.wrote(outcome.position)
        visit.say("project-saved")
        return web.redirect(request, "/manage/projects")
    project = web.commands.projects.get(project_id)
    return admin_page(request, web, "admin_project.html", {
        "title": f"Project {project.name}", "project": project, "form": form,
    }, 400)


# ---------------------------------------------------------------------------- emails

EmailStatus = Literal["pending", "sent", "failed"]


@get("/manage/emails", sync_to_thread=True)
def emails(request: Request[Any, Any, Any], web: Web, actor: Actor, status: Query = None,
           cursor: Query = None) -> Response[Any]:
    require_admin(actor)
    if status not in (None, "", "pending", "sent", "failed"):
        raise InvalidQuery("status", "must be pending, sent or failed")
    with web.reading(visit_of(request), (Outbox.name,)) as conn:
        shown = cast(EmailStatus | None, status or None)
        page = rows.list_emails(conn, shown, None, 50, cursor or None)
        counts = rows.outbox_counts(conn)
    return admin_page(request, web, "admin_emails.html", {
        "title": "Emails", "page": page, "status": status or "", "counts": counts,
    })


@post("/manage/emails/{email_id:uuid}/retry", sync_to_thread=True)
def retry(request: Request[Any, Any, Any], web: Web, actor: Actor, email_id: UUID
          ) -> Response[Any]:
    require_admin(actor)
    with web.services.pool.connection() as conn:
        if not rows.retry_email(conn, email_id):
            raise NotFound("no such email")
    visit_of(request).say("email-retried")
    back = Form.of(request).text("back")
    return web.redirect(request, back if back.startswith("/manage/emails") else "/manage/emails")


ROUTES = [manage, people, change_person, project_list, create_project, project_page,
          revise_project, emails, retry]
