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
from commands.attachments import Attachments, AttachmentStorage
from commands.base import Trail
from commands.credentials import Credentials
from commands.numbering import TicketNumbers
from commands.projects import Projects
from commands.tickets import Tickets


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Commands:
    store: Trail
    accounts: Accounts
    projects: Projects
    tickets: Tickets
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
    attachments: AttachmentStorage | None = None,
) -> Commands:
    """The services on `store`; without `attachments` (where bytes go), uploads are refused."""
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
    )
