"""Projects: created, revised and archived by admins; listed and read by everyone."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, delete, get, post, put
from litestar.params import Parameter

from api.context import Context
from api.errors import problem_responses
from api.headers import LOCATION, TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.reads import reading, waits_for
from api.responses import answer
from commands.errors import NotFound
from commands.messages import ArchiveProject, CreateProject, ReviseProject
from commands.permissions import Actor
from projections import projects
from projections.paging import Page
from projections.projects import ProjectFilters, ProjectView, view_of

TAGS = ["projects"]
READS = (projects.ProjectsProjection.name,)


class ProjectCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str
    key: str | None = None
    description: str | None = None


class ProjectRevision(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The whole editable state: a description left out is cleared."""

    name: str
    description: str | None = None


def _open_tickets(context: Context, project_id: UUID) -> int:
    # The one figure only the read side knows; the rest comes from the saved aggregate.
    with context.services.pool.connection() as conn:
        found = projects.get_project(conn, project_id)
    return found.open_tickets if found is not None else 0


@post(
    "/projects",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Create a project (admin)",
    description="name 3..100 characters, unique ignoring case (409); `key` 2..10 of "
    "`[A-Z0-9]` starting with a letter, unique (409), derived from the name when absent.",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
)
def create_project(
    data: ProjectCreate, context: Context, actor: Actor
) -> Response[ProjectView]:
    outcome = context.commands.projects.create(
        actor, CreateProject(name=data.name, key=data.key, description=data.description)
    )
    return answer(view_of(outcome.aggregate, open_tickets=0), outcome.position,
                  status_code=201, location=f"/projects/{outcome.id}")


@get(
    "/projects",
    tags=TAGS,
    sync_to_thread=True,
    summary="List projects",
    description="In the order they were created; `q` matches the name, key or description.",
    responses=problem_responses(401, 422, 503),
)
def list_projects(
    context: Context,
    q: Annotated[str | None, Parameter(max_length=200)] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[ProjectView]:
    with reading(context, READS, min_position) as conn:
        return projects.list_projects(conn, ProjectFilters(q=q), limit, cursor)


@get(
    "/projects/{project_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Read a project",
    responses=problem_responses(401, 404, 422, 503),
)
def get_project(
    project_id: UUID, context: Context, min_position: MinPosition = None
) -> ProjectView:
    with reading(context, READS, min_position) as conn:
        found = projects.get_project(conn, project_id)
    if found is None:
        raise NotFound("no such project")
    return found


@put(
    "/projects/{project_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Revise a project (admin)",
    description="An archived project cannot be changed (409).",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
def revise_project(
    project_id: UUID, data: ProjectRevision, context: Context, actor: Actor
) -> Response[ProjectView]:
    outcome = context.commands.projects.revise(
        actor, ReviseProject(project_id=project_id, name=data.name, description=data.description)
    )
    view = view_of(outcome.aggregate, _open_tickets(context, project_id))
    return answer(view, outcome.position)


@delete(
    "/projects/{project_id:uuid}",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Archive a project (admin)",
    description="Its tickets and history stay readable; it takes no new tickets.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 403, 404),
)
def archive_project(project_id: UUID, context: Context, actor: Actor) -> Response[None]:
    outcome = context.commands.projects.archive(actor, ArchiveProject(project_id=project_id))
    return answer(None, outcome.position, status_code=204)


ROUTES = [create_project, list_projects, get_project, revise_project, archive_project]
waits_for(READS, list_projects, get_project)
