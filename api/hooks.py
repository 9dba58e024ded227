"""What runs before every handler, in the contract's order of answers: who is calling (401)
first, then whether the body is acceptable (415, 413, 400, 422)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request
from litestar.datastructures import State

from api.bodies import body_type, check_body
from api.context import Context
from api.tokens import bearer_token
from commands.permissions import Actor

# Set on the router of every endpoint that needs a token; everything else (auth, health,
# docs, schema) is public.
AUTHENTICATED = {"authenticated": True}


def context_of(state: State) -> Context:
    context: Context = state.context
    return context


async def before_request(request: Request[Any, Any, Any]) -> None:
    context = context_of(request.app.state)
    if request.route_handler.opt.get("authenticated"):
        user_id = context.tokens.subject(bearer_token(request.headers.get("authorization")))
        # The account as it is now: a deactivated user's tokens stop working at once, and a
        # role change applies to the very next request.
        request.state.actor = await to_thread.run_sync(context.trail.actor, user_id)
    struct = body_type(request)
    if struct is not None:
        await check_body(request, struct)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor: Actor = request.state.actor
    return actor


def provide_context(request: Request[Any, Any, Any]) -> Context:
    return context_of(request.app.state)
