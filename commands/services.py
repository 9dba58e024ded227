"""The write side, assembled: one event store and the service of each aggregate family.

`runtime/bootstrap.py` builds it from settings; tests build it with their own clock, ids or
registration mode. Nothing here creates tables: that is the migrations' job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from commands.accounts import Accounts
from commands.api_token_store import ApiTokenStore
from commands.api_tokens import ApiTokenService
from commands.attachments import Attachments, AttachmentStorage
from commands.base import Trail
from commands.conversations import Conversations
from commands.credentials import Credentials
from commands.links import Links
from commands.numbering import TicketNumbers
from commands.projects import Projects
from commands.reading import ReadMarks
from commands.teams import Teams
from commands.tickets import Tickets
from commands.watching import Watching
from commands.webhook_secrets import Seal, WebhookSecrets
from commands.webhooks import UrlGuard, WebhookService


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Commands:
    store: Trail
    accounts: Accounts
    projects: Projects
    tickets: Tickets
    watching: Watching
    conversations: Conversations
    read_marks: ReadMarks
    api_tokens: ApiTokenService
    webhooks: WebhookService
    links: Links
    teams: Teams
    attachments: Attachments

    def close(self) -> None:
        self.store.close()


def build_commands(
    store: Trail,
    *,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], UUID] = uuid4,
    registration: str = "open",
    credentials: Credentials | None = None,
    sealer: Seal | None = None,
    url_guard: UrlGuard | None = None,
    attachments: AttachmentStorage | None = None,
) -> Commands:
    """`sealer` and `url_guard` are what webhooks need (the composition root passes
    `outbound`'s); without them every webhook URL is refused. Without `attachments` (where
    their bytes go), uploads are refused."""
    datastore = store.datastore
    tickets = Tickets(store, TicketNumbers(datastore), clock=clock, new_id=new_id)
    return Commands(
        store=store,
        accounts=Accounts(
            store,
            credentials or Credentials(datastore),
            clock=clock,
            new_id=new_id,
            registration=registration,
        ),
        projects=Projects(store, clock=clock, new_id=new_id),
        tickets=tickets,
        attachments=Attachments(store, tickets, attachments, clock=clock, new_id=new_id),
        watching=Watching(store, clock=clock, new_id=new_id),
        conversations=Conversations(store, clock=clock, new_id=new_id),
        read_marks=ReadMarks(store, clock=clock, new_id=new_id),
        api_tokens=ApiTokenService(store, ApiTokenStore(datastore), clock=clock, new_id=new_id),
        webhooks=WebhookService(
            store,
            WebhookSecrets(datastore, sealer or _WebhooksOff()),
            url_guard or _WebhooksOff(),
            clock=clock,
            new_id=new_id,
        ),
        links=Links(store, clock=clock, new_id=new_id),
        teams=Teams(store, clock=clock, new_id=new_id),
    )


class _WebhooksOff:
    """Without `outbound`, no URL may be called, so no secret is ever sealed."""

    def refusal(self, url: str) -> str | None:
        return "this Trail is not set up to call webhooks"

    def seal(self, secret: str) -> str:
        raise RuntimeError("webhooks are off: no sealer was given")
