"""How an email names the other tickets and the teams a command's changes mention: tickets by
key (`WEB-42`), teams by their name at the time of the command.

Ticket keys come from what the outbox already remembers of every ticket and project; a team's
name is folded from the team's own events in the log, up to the command's position, so a replay
names it as the first run did.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import DictRow

from domain.team import Team
from eventlog.reading import aggregate_events
from projections.outbox.composer import Command


def labels(cur: Cursor[DictRow], command: Command) -> dict[UUID, str]:
    tickets: set[UUID] = set()
    teams: set[UUID] = set()
    for event, _ in command:
        for field, (old, new) in event.changes().items():
            if field == "parent_id":
                tickets.update(_ids((old, new)))
            elif field == "links":
                tickets.update(link.ticket_id for link in (*(old or ()), *new))
            elif field == "team_id":
                teams.update(_ids((old, new)))
    position = command[-1][1]
    return {**_ticket_keys(cur, tickets), **{t: _team_name(cur, t, position) for t in teams}}


def _ids(values: Iterable[UUID | None]) -> set[UUID]:
    return {v for v in values if v is not None}


def _ticket_keys(cur: Cursor[DictRow], ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    rows = cur.execute(
        "SELECT t.id, p.key || '-' || t.number AS key FROM outbox_tickets t "
        "JOIN outbox_projects p ON p.id = t.project_id WHERE t.id = ANY(%s)",
        (list(ids),),
    ).fetchall()
    return {row["id"]: row["key"] for row in rows}


def _team_name(cur: Cursor[DictRow], team_id: UUID, position: int) -> str:
    name = str(team_id)
    for at, event in aggregate_events(cur, team_id):
        if at > position:
            break
        if isinstance(event, Team.Formed | Team.Renamed):
            name = event.name
    return name
