"""Reading the log in tests, as auditors do (eventlog.audit), through the write side's pool; and
running any command message through the service that handles it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from commands.base import Outcome
from commands.messages import (
    ArchiveProject,
    AssignTicket,
    ChangeUser,
    CommentOnTicket,
    CreateProject,
    CreateTicket,
    EditComment,
    EditTicket,
    ReviseProject,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.history import HistoryEntry
from domain.ticket import Ticket
from eventlog import audit


def history(
    app: Commands, ticket_id: UUID, after_version: int = 0, limit: int | None = None
) -> list[HistoryEntry]:
    with app.store.datastore.get_connection() as conn:
        return audit.ticket_history(conn, ticket_id, after_version, limit)


def log(app: Commands, **filters: Any) -> list[audit.LogEntry]:
    with app.store.datastore.get_connection() as conn:
        return audit.log_entries(conn, **filters)


def as_of(app: Commands, ticket_id: UUID, moment: datetime) -> Ticket | None:
    with app.store.datastore.get_connection() as conn:
        return audit.ticket_as_of(conn, ticket_id, moment)


def handle(app: Commands, actor: Actor, command: Any) -> Outcome[Any]:
    """Any command that needs an authenticated actor, to the service that carries it out."""
    match command:
        case ChangeUser():
            return app.accounts.change_user(actor, command)
        case CreateProject():
            return app.projects.create(actor, command)
        case ReviseProject():
            return app.projects.revise(actor, command)
        case ArchiveProject():
            return app.projects.archive(actor, command)
        case CreateTicket():
            return app.tickets.create(actor, command)
        case EditTicket():
            return app.tickets.edit(actor, command)
        case AssignTicket():
            return app.tickets.assign(actor, command)
        case CommentOnTicket():
            return app.tickets.comment(actor, command)
        case EditComment():
            return app.tickets.edit_comment(actor, command)
    raise TypeError(f"unknown command {type(command).__name__}")
