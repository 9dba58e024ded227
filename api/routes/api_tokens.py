"""The caller's API tokens: issue one (its secret shown in that answer only), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, delete, get, post

from api.context import Context
from api.errors import problem_responses
from api.headers import LOCATION, TRAIL_POSITION
from api.responses import answer
from commands.api_tokens import ListedToken
from commands.errors import NotFound
from commands.messages import IssueApiToken
from commands.permissions import Actor
from domain.api_tokens import EXPIRY_DAYS_MAX, EXPIRY_DAYS_MIN, TOKEN_NAME_MAX

TAGS = ["auth"]


class TokenRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            description=f"1..{TOKEN_NAME_MAX} characters after trimming, no control characters.",
            examples=["CI deploys"],
        ),
    ]
    expires_in_days: (
        Annotated[
            int,
            msgspec.Meta(
                ge=EXPIRY_DAYS_MIN, le=EXPIRY_DAYS_MAX,
                description="Days until the token stops working; none by default.",
                examples=[90],
            ),
        ]
        | None
    ) = None


class IssuedTokenView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    token: Annotated[
        str,
        msgspec.Meta(
            description="Send as `Authorization: Bearer <token>`. Shown in this answer only.",
            examples=["trail_pat_6Xq2Jw0mJ9dC4a3nQ2l1bX8k5Zr7tV0yH3sG6fP9uE4"],
        ),
    ]
    created_at: datetime
    expires_at: datetime | None


class TokenView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: Annotated[
        datetime | None,
        msgspec.Meta(description="Kept to the minute: refreshed at most once a minute."),
    ]


class TokenList(msgspec.Struct, frozen=True):
    items: list[TokenView]
    next_cursor: None = None


def _view(listed: ListedToken) -> TokenView:
    record = listed.record
    return TokenView(record.id, record.name, record.created_at, record.expires_at,
                     listed.last_used_at)


@post(
    "/me/tokens",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Issue an API token",
    description="A long-lived token for scripts and integrations, acting as the caller with "
    "the caller's role and status as they are at each request. `token` is shown in this "
    "answer only: Trail keeps its SHA-256 digest. At most 50 live tokens per user (409).",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 409, 413, 415, 422),
)
def issue_token(data: TokenRequest, context: Context, actor: Actor) -> Response[IssuedTokenView]:
    outcome, issued = context.commands.api_tokens.issue(
        actor, IssueApiToken(name=data.name, expires_in_days=data.expires_in_days)
    )
    record = issued.record
    response = answer(
        IssuedTokenView(record.id, record.name, issued.token, record.created_at,
                        record.expires_at),
        outcome.position, status_code=201, location=f"/me/tokens/{record.id}",
    )
    # The secret must sit in no cache, and in no idempotency record either.
    response.headers["Cache-Control"] = "no-store"
    return response


@get(
    "/me/tokens",
    tags=TAGS,
    sync_to_thread=True,
    summary="The caller's API tokens",
    description="Every token not revoked, oldest first, expired ones included; never the "
    "secret. One page holds them all (at most 50 live ones).",
    responses=problem_responses(401),
)
def list_tokens(context: Context, actor: Actor) -> TokenList:
    return TokenList([_view(t) for t in context.commands.api_tokens.listed(actor)])


@get(
    "/me/tokens/{token_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="One of the caller's API tokens",
    responses=problem_responses(401, 404),
)
def get_token(token_id: UUID, context: Context, actor: Actor) -> TokenView:
    for listed in context.commands.api_tokens.listed(actor):
        if listed.record.id == token_id:
            return _view(listed)
    raise NotFound("no such token")


@delete(
    "/me/tokens/{token_id:uuid}",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Revoke an API token",
    description="The token is refused from this moment on, by every API process.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 404),
)
def revoke_token(token_id: UUID, context: Context, actor: Actor) -> Response[None]:
    outcome = context.commands.api_tokens.revoke(actor, token_id)
    return answer(None, outcome.position, status_code=204)


ROUTES = [issue_token, list_tokens, get_token, revoke_token]
