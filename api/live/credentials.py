"""What a live stream was opened with: an access token (JWT), an API token or a browser's
session cookie, what ends it, and how to verify the account again while it runs.

An access token ends at its expiry and with a password change after it was issued; an API token
at its own expiry (if it has one) and when it is revoked; a browser session like an access token
(its sign-in is `issued_at`, to the millisecond) and when it is signed out. Each stops with the
account. Browser sessions are the web app's (`web.live`): the composition root hands them over
as `BrowserSessions`, so this package knows their rule without holding a copy of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from api.context import Context
from api.live.browser import BrowserSessions
from commands.api_token_store import is_api_token
from commands.permissions import Actor


class Credential(NamedTuple):
    user_id: UUID
    expires_at: datetime | None
    issued_at: datetime | None = None
    """An access token's: a password change after it voids it."""
    token_id: UUID | None = None
    """An API token's: revoking it ends the stream."""
    still_held: Callable[[], None] | None = None
    """A browser session's: raises Unauthenticated once it was signed out."""


def browser_credential(sessions: BrowserSessions | None, headers: Mapping[str, str]
                       ) -> Credential | None:
    """The stream's credential from a session cookie (run it in a thread); None when there is
    none, and the client authenticates with a token instead."""
    found = sessions(headers) if sessions is not None else None
    if found is None:
        return None
    return Credential(found.user_id, found.expires_at, issued_at=found.signed_in,
                      still_held=found.still_held)


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
        if held.still_held is not None:
            held.still_held()
            # A session knows its sign-in to the millisecond: compared exactly.
            return context.commands.accounts.actor(held.user_id, held.issued_at,
                                                   whole_seconds=False)
        return context.commands.accounts.actor(held.user_id, held.issued_at)

    return verify
