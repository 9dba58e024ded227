"""The web app's routes, for `runtime/` to mount in the same Litestar app as the API.

Everything here lives in a router of its own, with its own hooks and error pages, so the API's
answers (its paths, its JSON 401s, its problem documents) stay exactly as they are.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from commands.permissions import Actor
from web.errors import error_handlers
from web.live import live_sessions
from web.pages import ROUTES
from web.render import STATIC_DIR
from web.services import WebServices
from web.site import Web
from web.visit import SignInRequired, visit_of


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The signed-in person; a page that takes `actor` sends anyone else to sign in."""
    actor = visit_of(request).actor
    if actor is None:
        raise SignInRequired
    return actor


def create_web(services: WebServices) -> list[ControllerRouterHandler]:
    web = Web(services)
    handlers = error_handlers(web)

    # Plain functions, not bound methods: Litestar copies the layers' hooks, and a bound
    # method would drag a copy of `web` (its pool, its locks) along.
    async def before_request(request: Request[Any, Any, Any]) -> None:
        await web.before_request(request)

    def provide_web() -> Web:
        return web

    pages = Router(
        path="/",
        route_handlers=ROUTES,
        dependencies={
            "web": Provide(provide_web, sync_to_thread=False, use_cache=True),
            "actor": Provide(provide_actor, sync_to_thread=False),
        },
        before_request=before_request,
        exception_handlers=handlers,
        include_in_schema=False,
        request_max_body_size=services.settings.max_form_body,
        # The API's `/ws` finds the sessions here (`api.live.credentials.BROWSER_SESSIONS`),
        # so a page's cookie opens a live stream under the sessions' own rule.
        opt={"browser_sessions": live_sessions(web.sessions, web.public_host)},
    )
    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="web-static",
        # Asset URLs carry a digest of their bytes (`?v=`), so a browser may keep them.
        cache_control=CacheControlHeader(max_age=31536000, public=True),
        exception_handlers=handlers,
        before_request=_no_hook,
        include_in_schema=False,
    )
    return [pages, static]


async def _no_hook(request: Request[Any, Any, Any]) -> None:
    """Static files need nothing of a visit (and none of the API's body checks)."""
