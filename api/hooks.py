"""What runs before every handler, in the contract's order of answers: who is calling (401)
first, then whether the query and the body are acceptable (415, 413, 400, 422)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import Request
from litestar.datastructures import State

from api import waiting
from api.bodies import NUL_MESSAGE, body_type, check_body, contains_nul
from api.context import Context
from api.errors import FieldIssue, InvalidInput
from api.reads import wait_before
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
        token = bearer_token(request.headers.get("authorization"))
        request.state.actor = await to_thread.run_sync(context.caller, token)
        waiting.caller.set(str(request.state.actor.id))
    else:
        waiting.caller.set(request.client.host if request.client else "unknown")
    bad = sorted({k for k, v in request.query_params.multi_items() if contains_nul(v)})
    if bad:
        raise InvalidInput(FieldIssue(name, NUL_MESSAGE) for name in bad)
    struct = body_type(request)
    if struct is not None:
        await check_body(request, struct)
    await wait_before(request, context)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor: Actor = request.state.actor
    return actor


def provide_context(request: Request[Any, Any, Any]) -> Context:
    return context_of(request.app.state)
