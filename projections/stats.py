"""Stats read model: `GET /stats`, one fact row per ticket, aggregated when asked.

`resolved_at` is when the ticket FIRST entered resolved or closed; reopening does not move it.
With `from`/`to` (UTC days, both inclusive), counts by status, priority and type cover tickets
created in the range, the daily series cover their own days in the range, and the median covers
tickets first resolved in the range. `by_assignee` splits the same figures by each current
assignee: `open` and `resolved` count its tickets created in the range by their status now
(neither resolved nor closed / resolved or closed), the median its tickets first resolved in
the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow

from domain.ticket import Ticket
from domain.values import UNRESOLVED, Priority, Status, TicketType
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, upsert
from projections.errors import InvalidQuery
from projections.users import UserRef

FACTS_DDL = """
CREATE TABLE ticket_facts (
    ticket_id uuid PRIMARY KEY,
    project_id uuid NOT NULL,
    status text NOT NULL,
    priority text NOT NULL,
    type text NOT NULL,
    created_at timestamptz NOT NULL,
    resolved_at timestamptz,
    team_id uuid,
    assignee_ids uuid[] NOT NULL
)
"""

COLUMNS = (
    "ticket_id", "project_id", "status", "priority", "type", "created_at", "resolved_at",
    "team_id", "assignee_ids",
)


class StatsProjection(ReadModel):
    name = "stats"
    revision = 2
    topics = topics_of(
        Ticket.Created, Ticket.StatusChanged, Ticket.PriorityChanged, Ticket.TypeChanged,
        Ticket.TeamChanged, Ticket.AssigneesChanged,
    )
    tables = {"ticket_facts": FACTS_DDL}
    indexes = (
        "CREATE INDEX ticket_facts_created ON ticket_facts (project_id, created_at)",
        "CREATE INDEX ticket_facts_resolved ON ticket_facts (project_id, resolved_at)"
        " WHERE resolved_at IS NOT NULL",
        "CREATE INDEX ticket_facts_team ON ticket_facts (team_id, created_at)"
        " WHERE team_id IS NOT NULL",
    )

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new = {e.event.originator_id for e in events if isinstance(e.event, Ticket.Created)}
        changed = {e.event.originator_id for e in events} - new
        rows = fetch_by_ids(cur, "ticket_facts", "ticket_id", COLUMNS, changed)
        for _, event in events:
            match event:
                case Ticket.Created():
                    rows[event.originator_id] = _created(event)
                case Ticket.StatusChanged(status=status, timestamp=at):
                    row = rows[event.originator_id]
                    row["status"] = status
                    if status not in UNRESOLVED and row["resolved_at"] is None:
                        row["resolved_at"] = at
                case Ticket.PriorityChanged(priority=priority):
                    rows[event.originator_id]["priority"] = priority
                case Ticket.TypeChanged(type=kind):
                    rows[event.originator_id]["type"] = kind
                case Ticket.TeamChanged(team_id=team_id):
                    rows[event.originator_id]["team_id"] = team_id
                case Ticket.AssigneesChanged(assignee_ids=assignee_ids):
                    rows[event.originator_id]["assignee_ids"] = list(assignee_ids)
        upsert(cur, "ticket_facts", ("ticket_id",), COLUMNS, list(rows.values()))


def _created(event: Ticket.Created) -> dict[str, Any]:
    return {
        "ticket_id": event.originator_id,
        "project_id": event.project_id,
        "status": Status.OPEN,
        "priority": event.priority,
        "type": event.type,
        "created_at": event.timestamp,
        "resolved_at": None,
        "team_id": event.team_id,
        "assignee_ids": list(event.assignee_ids),
    }


class StatsFilters(msgspec.Struct, frozen=True, kw_only=True):
    project_id: UUID | None = None
    team_id: UUID | None = None
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class DayCount(msgspec.Struct, frozen=True):
    date: date
    count: int


class Stats(msgspec.Struct, frozen=True):
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_type: dict[str, int]
    created_per_day: list[DayCount]
    resolved_per_day: list[DayCount]
    median_seconds_to_resolve: float | None
    by_assignee: list[AssigneeStats]


def stats(conn: Connection[DictRow], filters: StatsFilters) -> Stats:
    if filters.from_ and filters.to and filters.from_ > filters.to:
        raise InvalidQuery("from", "must not be after 'to'")
    counts = _counts(conn, filters)
    return Stats(
        by_status=counts["status"],
        by_priority=counts["priority"],
        by_type=counts["type"],
        created_per_day=_per_day(conn, filters, "created_at"),
        resolved_per_day=_per_day(conn, filters, "resolved_at"),
        median_seconds_to_resolve=_median(conn, filters),
        by_assignee=by_assignee(conn, filters),
    )


def _where(filters: StatsFilters, column: str) -> tuple[sql.Composable, list[Any]]:
    """Clauses for the project and for `column` within the UTC days [from, to]."""
    clauses: list[sql.Composable] = [sql.SQL("{} IS NOT NULL").format(sql.Identifier(column))]
    params: list[Any] = []
    if filters.project_id is not None:
        clauses.append(sql.SQL("project_id = %s"))
        params.append(filters.project_id)
    if filters.team_id is not None:
        clauses.append(sql.SQL("team_id = %s"))
        params.append(filters.team_id)
    if filters.from_ is not None:
        clauses.append(sql.SQL("{} >= (%s::date)::timestamp AT TIME ZONE 'UTC'").format(
            sql.Identifier(column)))
        params.append(filters.from_)
    if filters.to is not None:
        clauses.append(sql.SQL("{} < (%s::date)::timestamp AT TIME ZONE 'UTC'").format(
            sql.Identifier(column)))
        params.append(filters.to + timedelta(days=1))
    return sql.SQL(" AND ").join(clauses), params


def _counts(conn: Connection[DictRow], filters: StatsFilters) -> dict[str, dict[str, int]]:
    where, params = _where(filters, "created_at")
    rows = conn.execute(
        sql.SQL(
            "SELECT status, priority, type, count(*) AS n FROM ticket_facts WHERE {} "
            "GROUP BY GROUPING SETS ((status), (priority), (type))"
        ).format(where),
        params,
    ).fetchall()
    counts: dict[str, dict[str, int]] = {
        "status": dict.fromkeys((s.value for s in Status), 0),
        "priority": dict.fromkeys((p.value for p in Priority), 0),
        "type": dict.fromkeys((t.value for t in TicketType), 0),
    }
    for row in rows:
        dimension = next(d for d in ("status", "priority", "type") if row[d] is not None)
        counts[dimension][row[dimension]] = row["n"]
    return counts


def _per_day(conn: Connection[DictRow], filters: StatsFilters, column: str) -> list[DayCount]:
    where, params = _where(filters, column)
    rows = conn.execute(
        sql.SQL(
            "SELECT ({c} AT TIME ZONE 'UTC')::date AS date, count(*) AS count "
            "FROM ticket_facts WHERE {w} GROUP BY 1 ORDER BY 1"
        ).format(c=sql.Identifier(column), w=where),
        params,
    ).fetchall()
    return [DayCount(row["date"], row["count"]) for row in rows]


def _median(conn: Connection[DictRow], filters: StatsFilters) -> float | None:
    where, params = _where(filters, "resolved_at")
    row = conn.execute(
        sql.SQL(
            "SELECT percentile_cont(0.5) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM resolved_at - created_at)) AS median "
            "FROM ticket_facts WHERE {}"
        ).format(where),
        params,
    ).fetchone()
    return float(row["median"]) if row and row["median"] is not None else None


class AssigneeStats(msgspec.Struct, frozen=True):
    user: UserRef
    open: int
    resolved: int
    median_seconds_to_resolve: float | None


def by_assignee(conn: Connection[DictRow], filters: StatsFilters) -> list[AssigneeStats]:
    """Each current assignee of the tickets the filters cover, by name."""
    created, created_params = _where(filters, "created_at")
    resolved, resolved_params = _where(filters, "resolved_at")
    # Counted apart from `users`, whose columns (created_at, status) the clauses would clash with.
    rows = conn.execute(
        sql.SQL(
            "SELECT s.*, coalesce(u.name, '') AS name FROM ("
            "SELECT a.user_id, "
            "count(*) FILTER (WHERE status IN ('open', 'in_progress') AND ({c})) AS open, "
            "count(*) FILTER (WHERE status IN ('resolved', 'closed') AND ({c})) AS resolved, "
            "percentile_cont(0.5) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM resolved_at - created_at)) FILTER (WHERE {r}) "
            "AS median "
            "FROM ticket_facts CROSS JOIN LATERAL unnest(assignee_ids) AS a(user_id) "
            "WHERE ({c}) OR ({r}) GROUP BY a.user_id"
            ") s LEFT JOIN users u ON u.id = s.user_id ORDER BY name, s.user_id"
        ).format(c=created, r=resolved),
        [*created_params, *created_params, *resolved_params, *created_params,
         *resolved_params],
    ).fetchall()
    return [
        AssigneeStats(
            user=UserRef(row["user_id"], row["name"]),
            open=row["open"],
            resolved=row["resolved"],
            median_seconds_to_resolve=float(row["median"]) if row["median"] is not None
            else None,
        )
        for row in rows
    ]
