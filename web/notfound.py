"""The "not found" page for paths nothing answers, when a browser asks for a page.

Such paths are matched by no route, so the API's own handler would answer with its JSON problem
document. This catch-all route, registered beside the web app's router and outside it, answers a
browser (`Accept: text/html` on a GET) with the web app's page, and leaves every other request
to the API exactly as before by raising the same `NotFoundException` (a problem document).
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar import HttpMethod, Request, Response, route
from litestar.exceptions import NotFoundException

from web.site import Web

METHODS: list[HttpMethod] = [HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
                             HttpMethod.PATCH, HttpMethod.DELETE]
# Routing does not go back once a path's first segments have matched a route's, so the web
# app's own prefixes need a catch-all of their own, where no other parameter sits beside it
# (one would shadow the other): `/manage/…` and `/account/…`, not `/t/{key}/…` or `/inbox/…`.
PATHS = ["/{path:path}", "/manage/{rest:path}", "/account/{rest:path}"]


def wants_page(request: Request[Any, Any, Any]) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


def catch_all(web: Web, before_request: Any) -> Any:
    """The route, built per app so its hook is the web app's (a visit, its session)."""

    async def skip_for_api(request: Request[Any, Any, Any]) -> None:
        # Only a page needs a visit; an API client's request is none of the web app's.
        if wants_page(request):
            await before_request(request)

    def page(request: Request[Any, Any, Any]) -> Response[Any]:
        return web.page(request, "error.html", {
            "title": "Not found", "status": 404,
            "detail": "There is nothing here, or nothing you may see.",
        }, status_code=404)

    @route(PATHS, http_method=METHODS, include_in_schema=False,
           before_request=skip_for_api, name="web-not-found")
    async def not_found(request: Request[Any, Any, Any]) -> Response[Any]:
        if not wants_page(request):
            raise NotFoundException()
        return await to_thread.run_sync(page, request)

    return not_found
