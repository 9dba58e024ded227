"""Open tickets over time: how many tickets were open at the end of each day, per project.

For each project and UTC day the model records how many tickets became open that day (created,
or reopened from `resolved` / `closed`) and how many stopped being open (moved to `resolved` or
`closed` from `open` / `in_progress`). The count at the end of a day is the sum of everything
before it, so any day of any range is exact, from the log alone: the model is rebuilt like every
other one, and no sampler has to have been running on the day in question. "Open" is what the
projects model's `open_tickets` and `/stats`' `by_status` call open: `open` or `in_progress`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow

from domain.ticket import Ticket
from domain.values import UNRESOLVED
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, insert
from projections.errors import InvalidQuery
from projections.stats import DayCount

DAYS_DDL = """
CREATE TABLE open_days (
    project_id uuid NOT NULL,
    day date NOT NULL,
    opened integer NOT NULL,
    closed integer NOT NULL,
    PRIMARY KEY (project_id, day)
)
"""

# Which project each ticket is in: status changes do not say.
TICKETS_DDL = "CREATE TABLE open_day_tickets (ticket_id uuid PRIMARY KEY, project_id uuid NOT NULL)"

# The longest range one query answers day by day.
MAX_DAYS = 3660


class DailyOpenProjection(ReadModel):
    name = "daily"
    revision = 1
    topics = topics_of(Ticket.Created, Ticket.StatusChanged)
    tables = {"open_days": DAYS_DDL, "open_day_tickets": TICKETS_DDL}

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        created = {e.event.originator_id: e.event.project_id
                   for e in events if isinstance(e.event, Ticket.Created)}
        insert(cur, "open_day_tickets", ("ticket_id", "project_id"),
               [{"ticket_id": t, "project_id": p} for t, p in created.items()])
        changed = {e.event.originator_id for e in events} - created.keys()
        known = fetch_by_ids(cur, "open_day_tickets", "ticket_id", ("ticket_id", "project_id"),
                             changed)
        project_of = created | {t: row["project_id"] for t, row in known.items()}
        counts: dict[tuple[UUID, date], list[int]] = defaultdict(lambda: [0, 0])
        for _, event in events:
            match event:
                case Ticket.Created(project_id=project_id, timestamp=at):
                    counts[(project_id, _day(at))][0] += 1
                case Ticket.StatusChanged(old_status=old, status=new, timestamp=at):
                    was_open, is_open = old in UNRESOLVED, new in UNRESOLVED
                    if was_open != is_open:
                        key = (project_of[event.originator_id], _day(at))
                        counts[key][0 if is_open else 1] += 1
        if counts:
            cur.executemany(
                "INSERT INTO open_days (project_id, day, opened, closed) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (project_id, day) DO UPDATE SET "
                "opened = open_days.opened + EXCLUDED.opened, "
                "closed = open_days.closed + EXCLUDED.closed",
                [(p, d, o, c) for (p, d), (o, c) in sorted(counts.items())],
            )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def open_per_day(
    conn: Connection[DictRow],
    first: date,
    last: date,
    project_ids: Sequence[UUID] | None = None,
) -> list[DayCount]:
    """The number of open tickets at the end of each UTC day from `first` to `last` (both
    included), in the given projects (every project when None)."""
    if first > last:
        raise InvalidQuery("from", "must not be after 'to'")
    if (last - first).days >= MAX_DAYS:
        raise InvalidQuery("from", f"the range is at most {MAX_DAYS} days")
    clauses: list[sql.Composable] = [sql.SQL("day <= %s")]
    params: list[Any] = [last]
    if project_ids is not None:
        clauses.append(sql.SQL("project_id = ANY(%s)"))
        params.append(list(project_ids))
    rows = conn.execute(
        sql.SQL("SELECT day, sum(opened - closed) AS delta FROM open_days WHERE {} "
                "GROUP BY day ORDER BY day").format(sql.SQL(" AND ").join(clauses)),
        params,
    ).fetchall()
    deltas = {row["day"]: int(row["delta"]) for row in rows}
    running = sum(delta for day, delta in deltas.items() if day < first)
    series = []
    day = first
    while day <= last:
        running += deltas.get(day, 0)
        series.append(DayCount(day, running))
        day += timedelta(days=1)
    return series


def utc_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()
