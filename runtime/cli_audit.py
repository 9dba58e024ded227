"""`trail history`: a ticket's full history, printed for an auditor."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import click
import msgspec
import psycopg
from psycopg.rows import dict_row

from domain.history import HistoryEntry
from domain.ticket_edit import ticket_id_for
from domain.values import parse_ticket_key
from eventlog.audit import ticket_as_of, ticket_history
from eventlog.reading import Executor, aggregate_events
from projections.tickets import find_by_key
from projections.users import get_user
from runtime.embedded import resolve_services
from runtime.settings import settings as load_settings


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an RFC 3339 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _names(conn: psycopg.Connection[Any], entries: list[HistoryEntry]) -> dict[UUID, str]:
    names = {}
    for actor_id in {e.actor_id for e in entries}:
        user = get_user(conn, actor_id)
        names[actor_id] = user.name if user else str(actor_id)
    return names


def _print_state(db: Executor, ticket_id: UUID, moment: datetime) -> None:
    ticket = ticket_as_of(db, ticket_id, moment)
    if ticket is None:
        raise click.ClickException(f"ticket {ticket_id} did not exist at {moment.isoformat()}")
    click.echo(f"Ticket {ticket_id} as of {moment.isoformat()} (version {ticket.version}):")
    for field in ("number", "title", "status", "priority", "type", "tags", "due_date"):
        click.echo(f"  {field:<12} {_show(msgspec.to_builtins(getattr(ticket, field)))}")
    click.echo(f"  {'assignees':<12} {_show([str(a) for a in ticket.assignee_ids])}")
    click.echo()


def _ticket_id(conn: psycopg.Connection[Any], ticket: str) -> UUID:
    """A ticket named by id or by key (`WEB-42`): ids follow from keys, and tickets made before
    they did are found in the tickets model."""
    with contextlib.suppress(ValueError):
        return UUID(ticket)
    parsed = parse_ticket_key(ticket)
    if parsed is None:
        raise click.BadParameter(f"not a ticket id or key: {ticket!r}", param_hint="TICKET")
    project = conn.execute(
        "SELECT id FROM projects WHERE key = %s", (parsed[0],)
    ).fetchone()
    candidates = [ticket_id_for(project["id"], parsed[1])] if project else []
    known = find_by_key(conn, *parsed)
    for candidate in [*candidates, *([known] if known else [])]:
        if aggregate_events(conn, candidate, limit=1):
            return candidate
    raise click.ClickException(f"no ticket {ticket}")


@click.command("history")
@click.argument("ticket")
@click.option("--as-of", "as_of", help="Show the ticket as it was then, and history up to then.")
def history_command(ticket: str, as_of: str | None) -> None:
    """Print every event of TICKET (an id or a key such as WEB-42), oldest first, with
    field-level changes."""
    settings = load_settings()
    with (
        resolve_services(settings) as services,
        psycopg.connect(services.database_url, row_factory=dict_row, autocommit=True) as conn,
    ):
        ticket_id = _ticket_id(conn, ticket)
        moment = _moment(as_of) if as_of else None
        if moment is not None:
            _print_state(conn, ticket_id, moment)
        entries = [e for e in ticket_history(conn, ticket_id) if moment is None or e.at <= moment]
        if not entries:
            raise click.ClickException(f"no history for ticket {ticket_id}")
        names = _names(conn, entries)
        for e in entries:
            who = names[e.actor_id]
            click.echo(f"#{e.position} v{e.version} {e.at.isoformat()} {who}: {e.type}")
            for field, change in e.changes.items():
                click.echo(f"    {field}: {_show(change.from_)} -> {_show(change.to)}")
