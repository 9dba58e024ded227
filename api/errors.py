"""The one place that turns errors into HTTP answers: RFC 9457 problem documents.

Every error the API can answer with goes through `problem_response`, so each one carries `type`,
`title`, `status` (equal to the HTTP status) and a string `detail`, plus `errors` naming every bad
field for invalid input. Unexpected exceptions are logged here and answered with a bare 500: no
stack trace, no SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import msgspec
from eventsourcing import persistence
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from blobstore import BlobTooLarge, UnsupportedType
from commands import errors as command_errors
from domain import api_tokens as token_errors
from domain import errors as domain_errors
from projections.errors import InvalidQuery

log = logging.getLogger("trail.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldIssue(msgspec.Struct, frozen=True):
    """One bad field of a request, named as the request names it."""

    field: str
    message: str


class ProblemDocument(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem; `errors` appears only for invalid input."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldIssue] | None = None


class Problem(Exception):
    """An error the API answers as a problem document; raised by the API's own checks."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: Iterable[FieldIssue] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _slug(status)
        self.errors = list(errors)
        self.headers = dict(headers or {})


class InvalidInput(Problem):
    """422 naming every bad field (a body field, a query parameter or a header)."""

    def __init__(
        self, errors: Iterable[FieldIssue], detail: str = "some fields are invalid"
    ) -> None:
        super().__init__(422, detail, kind="invalid-fields", errors=errors)


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput([FieldIssue(field, message)])


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def _problem_type(kind: str) -> str:
    # URNs, not URLs: they name the kind of problem without promising a page to fetch.
    return f"urn:trail:problem:{kind}"


def problem_document(problem: Problem) -> bytes:
    return msgspec.json.encode(
        ProblemDocument(
            type=_problem_type(problem.kind),
            title=HTTPStatus(problem.status).phrase,
            status=problem.status,
            detail=problem.detail,
            errors=problem.errors or None,
        )
    )


def problem_response(problem: Problem) -> Response[bytes]:
    return Response(
        content=problem_document(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


# Errors of the layers below, each with its HTTP status and problem kind. Subclasses are looked
# up through their MRO, so a new subclass answers like its parent until it gets its own row.
_MAPPED: dict[type[Exception], tuple[int, str]] = {
    domain_errors.TransitionNotAllowed: (409, "transition-not-allowed"),
    domain_errors.NameTaken: (409, "name-taken"),
    domain_errors.ProjectArchived: (409, "project-archived"),
    domain_errors.NotCommentAuthor: (403, "not-comment-author"),
    domain_errors.UnknownComment: (404, "not-found"),
    token_errors.TooManyTokens: (409, "too-many-tokens"),
    token_errors.UnknownToken: (404, "not-found"),
    domain_errors.LinkNotAllowed: (409, "link-not-allowed"),
    domain_errors.CycleNotAllowed: (409, "cycle-not-allowed"),
    domain_errors.UnknownLink: (404, "not-found"),
    domain_errors.TicketBlocked: (409, "ticket-blocked"),
    domain_errors.UnknownAttachment: (404, "not-found"),
    domain_errors.AttachmentGone: (410, "gone"),
    command_errors.NotFound: (404, "not-found"),
    command_errors.Forbidden: (403, "forbidden"),
    command_errors.Unauthenticated: (401, "unauthenticated"),
    command_errors.AccountPending: (403, "account-pending"),
    command_errors.Conflict: (409, "conflict"),
    command_errors.VersionMismatch: (412, "version-mismatch"),
    command_errors.UploadInterrupted: (503, "upload-interrupted"),
    command_errors.InvalidResetToken: (400, "invalid-reset-token"),
    BlobTooLarge: (413, "upload-too-large"),
    UnsupportedType: (415, "unsupported-media-type"),
}

_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}

_UNAVAILABLE = command_errors.SERVICE_UNAVAILABLE
UNAVAILABLE_RETRY_AFTER = "2"
# The event store retries a write whose connection broke. A retry that meets its own committed
# write is recognised by the services (`Service._save`); one that meets another command's in
# that moment is a write in doubt, answered like the outage it was, not as a server bug.
_IN_DOUBT: tuple[type[Exception], ...] = (persistence.IntegrityError,)


def to_problem(error: Exception, request: Request[Any, Any, Any] | None = None) -> Problem:
    """The problem document for any exception; unexpected ones become an opaque 500."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, domain_errors.InvalidFields):
        return InvalidInput(FieldIssue(e.field, e.message) for e in error.errors)
    if isinstance(error, InvalidQuery):
        return invalid(error.field, error.message)
    if isinstance(error, command_errors.TooManyRequests):
        return Problem(429, str(error), kind="too-many-requests",
                       headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, command_errors.LoginsUnavailable):
        return Problem(503, "login is unavailable for a moment", kind="service-unavailable",
                       headers={"Retry-After": "5"})
    for cls in type(error).__mro__:
        if cls in _MAPPED:
            status, kind = _MAPPED[cls]
            headers = _HEADERS.get(status)
            return Problem(status, str(error) or HTTPStatus(status).phrase, kind=kind,
                           headers=headers)
    if isinstance(error, _UNAVAILABLE + _IN_DOUBT):
        log.warning("answered 503: a service is unavailable (%s)", error)
        return Problem(503, "the service is unavailable for a moment; try again shortly",
                       kind="service-unavailable",
                       headers={"Retry-After": UNAVAILABLE_RETRY_AFTER})
    if isinstance(error, ValidationException):
        return _validation_problem(error, request)
    if isinstance(error, HTTPException):
        return _http_problem(error)
    log.error("unexpected error answered with 500", exc_info=error)
    return Problem(500, "the server failed to handle this request", kind="internal-error")


def _validation_problem(
    error: ValidationException, request: Request[Any, Any, Any] | None
) -> Problem:
    """Litestar's own parameter checks (query, path, header): 422 naming each one as the
    client sent it (`type`, not the handler's `ticket_type`)."""
    extra = error.extra if isinstance(error.extra, list) else []
    issues = [
        FieldIssue(_public_name(str(item.get("key") or "request"), request),
                   str(item.get("message") or "is invalid"))
        for item in extra
        if isinstance(item, dict)
    ]
    return InvalidInput(issues or [FieldIssue("request", str(error.detail))])


def _public_name(key: str, request: Request[Any, Any, Any] | None) -> str:
    if request is None:
        return key
    parameter = request.route_handler.parsed_fn_signature.parameters.get(key)
    kwarg = getattr(parameter, "kwarg_definition", None)
    alias = getattr(kwarg, "query", None) or getattr(kwarg, "header", None)
    return str(alias) if alias else key


def _http_problem(error: HTTPException) -> Problem:
    status = error.status_code
    if status == 400:
        # Litestar raises a bare 400 for a body it cannot parse or a bad Content-Length.
        return Problem(400, "the request is malformed: " + str(error.detail), kind="malformed")
    kept = {"allow", "retry-after"}
    headers = {k: v for k, v in (error.headers or {}).items() if k.lower() in kept}
    detail = {
        404: "no such resource",
        405: "this method is not allowed here",
        413: "the request body is too large (at most 1 MiB of JSON)",
    }.get(status, str(error.detail))
    return Problem(status, detail, headers=headers)


def handle_exception(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    return problem_response(to_problem(error, request))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle_exception}

_DESCRIPTIONS = {
    400: "Malformed request (JSON that does not parse, an unknown or used reset token)",
    401: "Missing, invalid or expired token, or an account that may no longer act",
    403: "Authenticated, but the role may not do this",
    404: "No such resource, or a ticket the caller may not see",
    408: "The request body stopped arriving",
    409: "Conflict: a taken name, an illegal status transition, an archived project, a link "
    "that exists or would close a cycle, a blocked ticket resolved, a cap reached",
    410: "Gone: the attachment was removed",
    412: "`If-Match` names a version the ticket has moved on from",
    413: "Request body larger than 1 MiB",
    415: "Request body that is not `application/json`",
    416: "None of the ranges asked for lies within the file (`Content-Range: bytes */size`)",
    422: "Well-formed but invalid: `errors` names every bad field or parameter",
    426: "A WebSocket endpoint asked for without the upgrade",
    429: "Too many attempts; retry after `Retry-After` seconds",
    503: "Not ready in time; retry after `Retry-After` seconds",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems an endpoint may answer."""
    return {
        status: ResponseSpec(
            data_container=ProblemDocument,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }
