"""The Litestar application: routes, the error mapping, auth, bodies and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import BaseLoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.types import ControllerRouterHandler, Empty

from api.bodies import MAX_JSON_BODY
from api.conditional import ConditionalGet
from api.context import Context
from api.docs import BEARER, docs_routes, openapi_config
from api.errors import EXCEPTION_HANDLERS
from api.hooks import AUTHENTICATED, before_request, provide_actor, provide_context
from api.idempotency import IdempotencyMiddleware, IdempotencyStore
from api.live.browser import BROWSER_SESSIONS, BrowserSessions
from api.metrics import metrics_endpoint
from api.observe import REQUEST_ID, RequestObserver, secure_headers
from api.people import provide_ticket_uuid
from api.routes import (
    admin,
    api_tokens,
    attachments,
    auth,
    comments,
    events,
    health,
    links,
    live,
    messages,
    notifications,
    preferences,
    projects,
    stats,
    teams,
    tickets,
    users,
    watchers,
    webhooks,
)
from api.services import ApiServices

# Headers a browser app may send and read across origins (CORS).
_CLIENT_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                   "If-None-Match", "Trail-Min-Position", "Last-Event-ID", REQUEST_ID]
_EXPOSED_HEADERS = ["Trail-Position", "ETag", "Location", "Link", "Retry-After",
                    "Idempotent-Replayed", "X-Request-Id", "WWW-Authenticate"]


def create_app(
    services: ApiServices,
    logging_config: BaseLoggingConfig | None = None,
    *,
    mount: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """`logging_config`: the process's logging (the composition root's); Litestar's default
    without one. `mount` adds routers that answer on their own terms beside the API (the web
    app), each with its own hooks and error handlers, kept out of the OpenAPI document."""
    context = Context.build(services, _browser_sessions(mount))
    store = IdempotencyStore(services.pool, services.settings)
    protected = Router(
        path="/",
        route_handlers=[
            *users.ROUTES,
            *api_tokens.ROUTES,
            *projects.ROUTES,
            *tickets.ROUTES,
            *comments.ROUTES,
            *watchers.ROUTES,
            *notifications.ROUTES,
            *preferences.ROUTES,
            *messages.ROUTES,
            *links.ROUTES,
            *teams.ROUTES,
            *attachments.ROUTES,
            *events.ROUTES,
            *stats.ROUTES,
            *admin.ROUTES,
            *webhooks.ROUTES,
        ],
        security=BEARER,
        opt=AUTHENTICATED,
    )
    cors = services.settings.cors_origins
    return Litestar(
        route_handlers=[*auth.ROUTES, *health.ROUTES, *live.ROUTES, metrics_endpoint,
                        *docs_routes(), protected, *mount],
        dependencies={
            "context": Provide(provide_context, sync_to_thread=False),
            "metrics": Provide(lambda: context.metrics, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "ticket_uuid": Provide(provide_ticket_uuid, sync_to_thread=True),
        },
        before_request=before_request,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_JSON_BODY,
        middleware=[
            DefineMiddleware(RequestObserver, metrics=context.metrics),
            ConditionalGet,
            DefineMiddleware(IdempotencyMiddleware, store=store, subject=context.subject),
        ],
        before_send=[secure_headers],
        cors_config=CORSConfig(
            allow_origins=list(cors), allow_methods=["*"], allow_headers=_CLIENT_HEADERS,
            expose_headers=_EXPOSED_HEADERS, max_age=600,
        ) if cors else None,
        logging_config=logging_config if logging_config is not None else Empty,
        openapi_config=openapi_config(),
        state=State({"context": context}),
        on_shutdown=[context.live.stop],
    )


def _browser_sessions(mount: Sequence[ControllerRouterHandler]) -> BrowserSessions | None:
    """The web app's sessions, which its router carries in its `opt` (`web.app`), so `/ws`
    takes a page's session cookie; None when no web app is mounted."""
    for handler in mount:
        sessions = getattr(handler, "opt", {}).get(BROWSER_SESSIONS)
        if sessions is not None:
            return cast(BrowserSessions, sessions)
    return None
