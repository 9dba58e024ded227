"""The Litestar application: routes, the error mapping, auth, bodies and the OpenAPI document."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from api.bodies import MAX_JSON_BODY
from api.context import Context
from api.docs import BEARER, docs_routes, openapi_config
from api.errors import EXCEPTION_HANDLERS
from api.hooks import AUTHENTICATED, before_request, provide_actor, provide_context
from api.idempotency import IdempotencyMiddleware, IdempotencyStore
from api.people import provide_ticket_uuid
from api.routes import (
    admin,
    attachments,
    auth,
    comments,
    events,
    health,
    projects,
    stats,
    tickets,
    users,
)
from api.services import ApiServices


def create_app(services: ApiServices) -> Litestar:
    context = Context.build(services)
    store = IdempotencyStore(services.pool, services.settings)
    protected = Router(
        path="/",
        route_handlers=[
            *users.ROUTES,
            *projects.ROUTES,
            *tickets.ROUTES,
            *comments.ROUTES,
            *attachments.ROUTES,
            *events.ROUTES,
            *stats.ROUTES,
            *admin.ROUTES,
        ],
        security=BEARER,
        opt=AUTHENTICATED,
    )
    return Litestar(
        route_handlers=[*auth.ROUTES, *health.ROUTES, *docs_routes(), protected],
        dependencies={
            "context": Provide(provide_context, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "ticket_uuid": Provide(provide_ticket_uuid, sync_to_thread=True),
        },
        before_request=before_request,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_JSON_BODY,
        middleware=[DefineMiddleware(IdempotencyMiddleware, store=store, tokens=context.tokens)],
        openapi_config=openapi_config(),
        state=State({"context": context}),
    )
