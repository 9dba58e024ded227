"""What a live stream was opened with: an access token (JWT) or an API token, what ends it, and
how to verify the account again while it runs.

An access token ends at its expiry and with a password change after it was issued; an API token
at its own expiry (if it has one) and when it is revoked. Either stops with the account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from api.context import Context
from commands.api_token_store import is_api_token
from commands.permissions import Actor


class Credential(NamedTuple):
    user_id: UUID
    expires_at: datetime | None
    issued_at: datetime | None = None
    """An access token's: a password change after it voids it."""
    token_id: UUID | None = None
    """An API token's: revoking it ends the stream."""


def credential(context: Context, token: str) -> Credential:
    """What `token` is; a 401 Problem or Unauthenticated when it does not work now."""
    if is_api_token(token):
        live = context.commands.api_tokens.live(token)
        return Credential(live.user_id, live.expires_at, token_id=live.id)
    user_id, issued_at, expires_at = context.tokens.claims(token)
    return Credential(user_id, expires_at, issued_at=issued_at)


def verifier(context: Context, token: str, held: Credential) -> Callable[[], Actor]:
    """The account as it is now, for the credential the stream holds (run it in a thread)."""

    def verify() -> Actor:
        if held.token_id is not None:
            return context.commands.accounts.actor(context.commands.api_tokens.holder(token))
        return context.commands.accounts.actor(held.user_id, held.issued_at)

    return verify
