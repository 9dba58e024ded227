"""Users: the caller, the list (admins), one user, and changes to name, role and status."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, get, patch
from litestar.params import Parameter
from msgspec import UNSET, UnsetType

from api.context import Context
from api.errors import problem_responses
from api.headers import TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.reads import reading, waits_for
from api.responses import answer
from commands.errors import Forbidden, NotFound
from commands.messages import ChangeUser
from commands.permissions import Actor
from domain.values import Role, UserStatus
from projections import users
from projections.paging import Page
from projections.users import UserFilters, UserView, view_of

TAGS = ["users"]
READS = (users.UsersProjection.name,)


class UserPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A user may change its own name; only an admin changes role or status."""

    name: str | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    status: UserStatus | UnsetType = UNSET


def _read_user(context: Context, user_id: UUID, min_position: int | None) -> UserView:
    with reading(context, READS, min_position) as conn:
        found = users.get_user(conn, user_id)
    if found is None:
        raise NotFound("no such user")
    return found


@get(
    "/me",
    tags=TAGS,
    sync_to_thread=True,
    summary="The caller",
    responses=problem_responses(401, 404, 422, 503),
)
def me(context: Context, actor: Actor, min_position: MinPosition = None) -> UserView:
    try:
        return _read_user(context, actor.id, min_position)
    except NotFound:
        # The caller exists (its token just checked out against the event store); the users
        # model has not caught up with its registration yet. Never answer 404 about oneself.
        return view_of(context.commands.accounts.user(actor.id))


@get(
    "/users",
    tags=TAGS,
    sync_to_thread=True,
    summary="List users",
    description="In the order they registered; `q` matches the name or the email. Admins list "
    "everyone. With `assignable=true`, the active developers and admins a ticket can be "
    "assigned to, for developers and admins (reporters 403); only admins see emails.",
    responses=problem_responses(401, 403, 422, 503),
)
def list_users(
    context: Context,
    actor: Actor,
    role: Role | None = None,
    status: UserStatus | None = None,
    q: Annotated[str | None, Parameter(max_length=200)] = None,
    assignable: bool = False,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[UserView]:
    if not actor.is_admin and not (assignable and actor.works_tickets):
        raise Forbidden("only an admin may list users; developers may list who is assignable")
    filters = UserFilters(role=role, status=status, q=q, assignable=assignable)
    with reading(context, READS, min_position) as conn:
        found = users.list_users(conn, filters, limit, cursor)
    if actor.is_admin:
        return found
    return Page(items=[u.public() for u in found.items], next_cursor=found.next_cursor)


@get(
    "/users/{user_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Read a user",
    description="Any signed-in user may read anyone's public profile (`id`, `name`, `role`, "
    "`status`); the email is shown to the user itself and to admins only.",
    responses=problem_responses(401, 404, 422, 503),
)
def get_user(
    user_id: UUID, context: Context, actor: Actor, min_position: MinPosition = None
) -> UserView:
    found = _read_user(context, user_id, min_position)
    return found if user_id == actor.id or actor.is_admin else found.public()


@patch(
    "/users/{user_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Change a user's name, role or status",
    description="A user may change its own name; only an admin changes role or status "
    "(`active`, `pending`, `deactivated`). A deactivated user's tokens stop working at once.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
def change_user(
    user_id: UUID, data: UserPatch, context: Context, actor: Actor
) -> Response[UserView]:
    outcome = context.commands.accounts.change_user(
        actor, ChangeUser(user_id=user_id, name=data.name, role=data.role, status=data.status)
    )
    return answer(view_of(outcome.aggregate), outcome.position)


ROUTES = [me, list_users, get_user, change_user]
waits_for(READS, me, list_users, get_user)
