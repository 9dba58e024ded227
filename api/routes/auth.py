"""Registration, tokens and password reset: the endpoints a caller uses before it has a token."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.background_tasks import BackgroundTask

from api.context import Context
from api.errors import problem_responses
from api.headers import LOCATION, TRAIL_POSITION
from api.responses import Accepted, answer
from commands.errors import TooManyLogins
from commands.logins import sign_in
from commands.messages import RegisterUser
from domain.values import normalise_email
from projections.users import UserView, view_of

log = logging.getLogger("trail.api")

TAGS = ["auth"]


class Registration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    email: str
    password: str


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: str
    password: str


class AccessToken(msgspec.Struct, frozen=True):
    access_token: str
    token_type: str
    expires_in: int


class ResetRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: str


class ResetConfirmation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: str
    new_password: str


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@post(
    "/auth/register",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Create an account",
    description="The first account of an empty system is `admin`; later ones are `reporter`, "
    "`active` or, when the deployment requires approval, `pending`. name 3..100 characters, "
    "email unique ignoring case (409), password 10..128 characters, not all letters or digits. "
    "A client address may register a limited number of accounts per hour (429).",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 409, 413, 415, 422, 429),
)
def register(
    data: Registration, context: Context, request: Request[Any, Any, Any]
) -> Response[UserView]:
    context.registrations.take(client_address(request), "registrations from one address")
    outcome = context.commands.accounts.register(
        RegisterUser(name=data.name, email=data.email, password=data.password)
    )
    return answer(view_of(outcome.aggregate), outcome.position, status_code=201,
                  location=f"/users/{outcome.id}")


@post(
    "/auth/token",
    tags=TAGS,
    status_code=200,
    sync_to_thread=True,
    summary="Log in: exchange email and password for an access token",
    description="401 for a wrong password and an unknown email alike; 403 for an account "
    "waiting for approval. Failures are limited per email and per client address: past the "
    "limit, 429 with `Retry-After`, even for the right password.",
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
)
def token(
    data: Credentials, context: Context, request: Request[Any, Any, Any]
) -> Response[AccessToken]:
    try:
        user = sign_in(context.commands.accounts, context.limiter, data.email, data.password,
                       client_address(request))
    except TooManyLogins:
        context.metrics.throttled_logins.inc()
        raise
    lifetime = int(context.tokens.lifetime.total_seconds())
    return Response(
        AccessToken(context.tokens.issue(user.id), "bearer", lifetime),
        # A bearer token must not sit in caches, nor in the idempotency store (see
        # api/idempotency.py, which keeps no `no-store` answer).
        headers={"Cache-Control": "no-store"},
    )


@post(
    "/auth/password-reset",
    tags=TAGS,
    status_code=202,
    sync_to_thread=True,
    summary="Ask for a password-reset email",
    description="Always 202, whether or not the email belongs to an account: the answer "
    "never tells. The email carries a single-use token valid for one hour. Requests are "
    "limited per email and per client address (429), known emails or not.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 413, 415, 422, 429),
)
def request_password_reset(
    data: ResetRequest, context: Context, request: Request[Any, Any, Any]
) -> Response[Accepted]:
    # Counted whether the email is known or not, so a 429 tells nothing about accounts.
    context.resets_by_address.take(client_address(request), "password resets from one address")
    context.resets_by_email.take(normalise_email(data.email), "password resets for one email")
    # The work happens after the answer is sent, so a known and an unknown email take the
    # same time to answer.
    return Response(
        Accepted("if the email belongs to an account, a reset link is on its way"),
        status_code=202,
        headers={"Trail-Position": str(context.commands.store.current_position())},
        background=BackgroundTask(_send_reset, context, data.email),
    )


def _send_reset(context: Context, email: str) -> None:
    try:
        issued = context.commands.accounts.start_password_reset(email)
        if issued is not None:
            user, reset_token = issued
            context.services.send_password_reset(
                user_id=user.id, email=user.email, name=user.name, token=reset_token
            )
    except Exception:
        # The answer (202) is already sent; all that is left to do is tell the operator.
        log.exception("could not issue or send a password-reset email")


@post(
    "/auth/password-reset/confirm",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Set a new password with a reset token",
    description="400 if the token is unknown, used or expired; 422 if the new password "
    "breaks the password rules.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 413, 415, 422),
)
def confirm_password_reset(data: ResetConfirmation, context: Context) -> Response[None]:
    outcome = context.commands.accounts.finish_password_reset(data.token, data.new_password)
    return answer(None, outcome.position, status_code=204)


ROUTES = [register, token, request_password_reset, confirm_password_reset]
