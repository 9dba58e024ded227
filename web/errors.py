"""Errors as pages: what a person sees instead of the API's problem documents.

A page for signed-in people redirects a visitor without a session to the sign-in page (303),
which returns there; a ticket the person may not see is "not found", like one that does not
exist (the API's rule); everything unexpected is logged and answered with a plain 500 page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.types import ExceptionHandlersMap

from commands import errors as command_errors
from domain import errors as domain_errors
from domain.api_tokens import UnknownToken
from projections.errors import InvalidQuery
from web.site import Web
from web.visit import (
    CsrfRefused,
    SignInRequired,
    Unavailable,
    UploadTooLarge,
    Visit,
    full_path,
)

log = logging.getLogger("trail.web")

_PAGES: dict[type[Exception], tuple[int, str, str]] = {
    NotFoundException: (404, "Not found", "There is nothing here, or nothing you may see."),
    command_errors.NotFound: (404, "Not found", "There is nothing here, or nothing you may see."),
    domain_errors.UnknownComment: (404, "Not found", "That comment does not exist."),
    domain_errors.UnknownAttachment: (404, "Not found", "That attachment does not exist."),
    domain_errors.UnknownLink: (404, "Not found", "That link does not exist."),
    UnknownToken: (404, "Not found", "That token does not exist."),
    domain_errors.AttachmentGone: (410, "Gone", "This attachment was removed from its ticket."),
    UploadTooLarge: (413, "File too large", ""),
    command_errors.Forbidden: (403, "Not allowed", "Your role may not do this."),
    domain_errors.NotCommentAuthor: (403, "Not allowed",
                                     "Only the author of a comment may change it."),
    CsrfRefused: (403, "This form has expired",
                  "For your safety the change was not made: the page it came from is too old "
                  "or from another site. Go back, reload the page and try again."),
    domain_errors.TransitionNotAllowed: (409, "Not possible now", ""),
    domain_errors.ProjectArchived: (409, "Project archived", ""),
    domain_errors.LinkNotAllowed: (409, "Not possible", ""),
    domain_errors.CycleNotAllowed: (409, "Not possible", ""),
    domain_errors.TicketBlocked: (409, "Blocked", ""),
    command_errors.Conflict: (409, "Try again", ""),
    command_errors.VersionMismatch: (409, "Changed meanwhile",
                                     "Someone changed this ticket since you opened the page. "
                                     "Reload it to see the change, then try again."),
    Unavailable: (503, "Unavailable for a moment",
                  "Trail is busy catching up. Reload the page in a few seconds."),
    command_errors.LoginsUnavailable: (503, "Unavailable for a moment",
                                       "Signing in is unavailable for a moment."),
}


def error_handlers(web: Web) -> ExceptionHandlersMap:
    def handle(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
        if isinstance(error, SignInRequired):
            # After signing in, a GET is asked for again; a form's POST cannot be.
            target = full_path(request) if request.method == "GET" else "/"
            return web.redirect(request, "/signin?next=" + quote(target, safe="/"))
        status, title, detail = _describe(error)
        if not hasattr(request.state, "visit"):
            # An error before the visit was built (a malformed request): a page all the same.
            request.state.visit = Visit(secure=False, csrf_secret="")
        response = web.page(request, "error.html",
                            {"title": title, "detail": detail, "status": status},
                            status_code=status)
        if status == 503:
            response.headers["Retry-After"] = "2"
        return response

    return {Exception: handle}


def _describe(error: Exception) -> tuple[int, str, str]:
    for cls in type(error).__mro__:
        if cls in _PAGES:
            status, title, detail = _PAGES[cls]
            return status, title, detail or str(error)
    if isinstance(error, command_errors.SERVICE_UNAVAILABLE):
        log.warning("answered a 503 page: a service is unavailable (%s)", error)
        return 503, "Unavailable for a moment", ("Trail cannot reach its database right now. "
                                                 "Reload the page in a few seconds.")
    if isinstance(error, InvalidQuery):
        return 400, "This link is not valid", f"{error.field}: {error.message}"
    if isinstance(error, domain_errors.InvalidFields):
        return 400, "Not valid", str(error)
    if isinstance(error, HTTPException) and error.status_code < 500:
        return error.status_code, _reason(error.status_code), str(error.detail)
    log.error("unexpected error answered with a 500 page", exc_info=error)
    return 500, "Something went wrong", "Trail could not show this page. Try again in a moment."


def _reason(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase
