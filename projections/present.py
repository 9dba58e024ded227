"""What every answer about tickets embeds, for the API and the web app alike: people by name,
tickets by key, and the view of a ticket aggregate.

Names come from the users read model; a user it has not caught up with yet (registered a moment
ago) is named from the log itself, so an answer never shows a blank name for a real user. A
ticket's key finds it on the write side's claims the moment it is created (its id follows from
its project and number), and in the tickets model for tickets made before ids did.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from psycopg import Connection
from psycopg.rows import DictRow

from domain.claim import Claim, claim_id
from domain.project import Project
from domain.ticket import Ticket
from domain.ticket_edit import ticket_id_for
from domain.user import User
from domain.values import parse_ticket_key
from eventlog.reading import aggregate_events
from projections import tickets, users
from projections.tickets import TicketView
from projections.tickets.queries import Progress
from projections.users import UserRef

A = TypeVar("A", bound=Aggregate)


def folded(conn: Connection[DictRow], cls: type[A], aggregate_id: UUID) -> A | None:
    """The aggregate `aggregate_id` as its events in the log make it; None when it is not a
    `cls` (or does not exist)."""
    aggregate: Aggregate | None = None
    for _, event in aggregate_events(conn, aggregate_id):
        if not isinstance(event, Aggregate.Event):
            return None
        aggregate = event.mutate(aggregate)
    return aggregate if isinstance(aggregate, cls) else None


def refs(conn: Connection[DictRow], ids: Iterable[UUID]) -> dict[UUID, UserRef]:
    """Each of `ids` that names a user, as answers embed it."""
    wanted = set(ids)
    found = users.refs(conn, wanted)
    for user_id in wanted - found.keys():
        user = folded(conn, User, user_id)
        if user is not None:
            found[user_id] = UserRef(user_id, user.name)
    return found


def ref(conn: Connection[DictRow], user_id: UUID) -> UserRef:
    return refs(conn, [user_id]).get(user_id) or UserRef(user_id, "")


# Project keys never change, and neither does which project holds a key: once read from the
# log, each is kept for the life of the process (a bounded map: a command's answer and every
# lookup by key would otherwise fold the project or its claim again).
_KNOWN_LIMIT = 100_000
_project_keys: dict[UUID, str] = {}
_key_holders: dict[str, UUID] = {}


def _remember(known: dict[Any, Any], name: Any, value: Any) -> None:
    if len(known) >= _KNOWN_LIMIT:
        known.clear()
    known[name] = value


def project_key(conn: Connection[DictRow], project_id: UUID) -> str:
    """A project's key, from the log."""
    key = _project_keys.get(project_id)
    if key is None:
        project = folded(conn, Project, project_id)
        if project is None:
            return ""
        key = project.key
        _remember(_project_keys, project_id, key)
    return key


def _key_holder(conn: Connection[DictRow], key: str) -> UUID | None:
    """The project that holds `key`, from its claim in the log."""
    holder = _key_holders.get(key)
    if holder is None:
        claim = folded(conn, Claim, claim_id("project-key", key))
        if claim is None or claim.owner_id is None:
            return None
        holder = claim.owner_id
        _remember(_key_holders, key, holder)
    return holder


def ticket_view(
    conn: Connection[DictRow], ticket: Ticket, progress: Progress | None = None
) -> TicketView:
    """The view of a ticket aggregate: a command's answer, `?version=`, `?as_of=`;
    `progress` is its subtasks' (`tickets.progress_of`), which the aggregate does not know."""
    people = refs(conn, [ticket.reporter_id, *ticket.assignee_ids])
    return tickets.view_of(ticket, project_key(conn, ticket.project_id), people, progress)


def find_ticket(conn: Connection[DictRow], reference: str) -> UUID | None:
    """The id of the ticket `reference` names, by id or by key (any case); None for anything
    else. Whether it exists, and whether the caller may see it, is the caller's question."""
    try:
        return UUID(reference)
    except ValueError:
        pass
    parsed = parse_ticket_key(reference)
    if parsed is None:
        return None
    key, number = parsed
    holder = _key_holder(conn, key)
    if holder is not None:
        ticket_id = ticket_id_for(holder, number)
        if aggregate_events(conn, ticket_id, limit=1):
            return ticket_id
    # Tickets made before ids followed from keys are known to the read model.
    return tickets.find_by_key(conn, key, number)
