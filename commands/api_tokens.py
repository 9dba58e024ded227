"""API tokens: a user issues, lists and revokes its own; a presented token names its user.

Writes are ordered so that no crash leaves a token that works without a record, or a record
that says revoked while the token still works:
- issuing stores the digest first, then records `ApiTokens.Issued`: a crash in between leaves a
  digest whose token was never shown to anyone;
- revoking refuses the digest first, then records `ApiTokens.Revoked`: a crash in between leaves
  a token that no longer works and is still listed, and revoking it again finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import msgspec

from commands.api_token_store import ApiTokenStore, is_api_token, new_token
from commands.base import Outcome, Service, Trail
from commands.errors import Unauthenticated
from commands.messages import IssueApiToken
from commands.permissions import Actor
from domain.api_tokens import ApiTokens, TokenRecord, UnknownToken, keyring_id


class IssuedToken(msgspec.Struct, frozen=True):
    """A token as it is issued: the only time its secret is known."""

    record: TokenRecord
    token: str


class ListedToken(msgspec.Struct, frozen=True):
    record: TokenRecord
    last_used_at: datetime | None


class ApiTokenService(Service):
    def __init__(
        self,
        store: Trail,
        tokens: ApiTokenStore,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
    ) -> None:
        super().__init__(store, clock=clock, new_id=new_id)
        self.tokens = tokens

    def issue(self, actor: Actor, command: IssueApiToken) -> tuple[Outcome[ApiTokens], IssuedToken]:
        token_id, secret = self.new_id(), new_token()
        issued: list[TokenRecord] = []

        def attempt() -> Outcome[ApiTokens]:
            stamp = self._stamp(actor.id)
            keyring = self._find(ApiTokens, keyring_id(actor.id))
            if keyring is None:
                keyring = ApiTokens.open(stamp, actor.id)
            record = keyring.issue(
                stamp, token_id=token_id, name=command.name,
                expires_in_days=command.expires_in_days,
            )
            self.tokens.add(token_id, actor.id, secret, record.expires_at)
            issued[:] = [record]
            return self._save(keyring, made=token_id)

        outcome = self._retrying(attempt, "token list")
        return outcome, IssuedToken(issued[0], secret)

    def revoke(self, actor: Actor, token_id: UUID) -> Outcome[ApiTokens]:
        def attempt() -> Outcome[ApiTokens]:
            keyring = self._find(ApiTokens, keyring_id(actor.id))
            if keyring is None or token_id not in keyring.tokens:
                raise UnknownToken("no such token")
            stamp = self._stamp(actor.id)
            self.tokens.revoke(token_id, actor.id, stamp.at)
            keyring.revoke(stamp, token_id)
            return self._save(keyring, made=token_id)

        return self._retrying(attempt, "token list")

    def listed(self, actor: Actor) -> list[ListedToken]:
        """The caller's tokens not revoked, oldest first (expired ones too, until revoked)."""
        keyring = self._find(ApiTokens, keyring_id(actor.id))
        if keyring is None:
            return []
        used = self.tokens.last_used(actor.id)
        return [ListedToken(record, used.get(record.id)) for record in keyring.tokens.values()]

    def holder(self, token: str) -> UUID:
        """The user a presented API token acts for; Unauthenticated when it may not."""
        user_id = self.tokens.holder(token, self.clock()) if is_api_token(token) else None
        if user_id is None:
            raise Unauthenticated("the API token is unknown, revoked or expired")
        return user_id
