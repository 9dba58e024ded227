"""Teams read model: `GET /teams` (q over the name) and `GET /teams/{id}`.

Who belongs to a team is also on each user (`User.TeamsChanged`), where authorization reads it;
this model serves the lists, with the people named at read time like everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow

from domain.team import Team
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, upsert
from projections.paging import Page, check_limit, decode_cursor, page
from projections.users import UserRef, like_pattern

TEAMS_DDL = """
CREATE TABLE teams (
    id uuid PRIMARY KEY,
    seq bigint NOT NULL,
    name text NOT NULL,
    lead_id uuid,
    member_ids uuid[] NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz
)
"""

COLUMNS = ("id", "seq", "name", "lead_id", "member_ids", "created_at", "updated_at")


class TeamsProjection(ReadModel):
    name = "teams"
    revision = 1
    topics = topics_of(Team.Formed, Team.Renamed, Team.LeadChanged, Team.MembersChanged)
    tables = {"teams": TEAMS_DDL}
    indexes = ("CREATE UNIQUE INDEX teams_seq ON teams (seq)",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new = {e.event.originator_id for e in events if isinstance(e.event, Team.Formed)}
        changed = {e.event.originator_id for e in events} - new
        rows = fetch_by_ids(cur, "teams", "id", COLUMNS, changed)
        for position, event in events:
            match event:
                case Team.Formed():
                    rows[event.originator_id] = _formed(position, event)
                case Team.Event():
                    _fold(rows[event.originator_id], event)
        upsert(cur, "teams", ("id",), COLUMNS, list(rows.values()))


def _formed(position: int, event: Team.Formed) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "seq": position,
        "name": event.name,
        "lead_id": event.lead_id,
        "member_ids": list(event.member_ids),
        "created_at": event.timestamp,
        "updated_at": None,
    }


def _fold(row: dict[str, Any], event: Team.Event) -> None:
    match event:
        case Team.Renamed(name=name):
            row["name"] = name
        case Team.LeadChanged(lead_id=lead_id):
            row["lead_id"] = lead_id
        case Team.MembersChanged(member_ids=member_ids):
            row["member_ids"] = list(member_ids)
    row["updated_at"] = event.timestamp


class TeamView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    lead_id: UUID | None
    lead: UserRef | None
    member_ids: list[UUID]
    members: list[UserRef]
    created_at: datetime
    updated_at: datetime | None


class TeamFilters(msgspec.Struct, frozen=True, kw_only=True):
    q: str | None = None
    """Case-insensitive substring of the name."""


# Names come from the users model at read time, so a rename shows everywhere at once.
_SELECT = sql.SQL(
    "SELECT id, seq, name, lead_id, member_ids, created_at, updated_at, "
    "CASE WHEN lead_id IS NOT NULL THEN json_build_object('id', lead_id, 'name', coalesce("
    "(SELECT name FROM users WHERE users.id = lead_id), '')) END AS lead, "
    "coalesce((SELECT json_agg(json_build_object('id', m.id, 'name', coalesce(u.name, '')) "
    "ORDER BY m.n) FROM unnest(member_ids) WITH ORDINALITY AS m(id, n) "
    "LEFT JOIN users u ON u.id = m.id), '[]') AS members FROM teams"
)


def view_of(team: Team, people: Mapping[UUID, UserRef]) -> TeamView:
    """The view of a team aggregate, as a command that changed it answers; `people` names its
    lead and members."""

    def ref(user_id: UUID) -> UserRef:
        return people.get(user_id) or UserRef(user_id, "")

    return TeamView(
        id=team.id,
        name=team.name,
        lead_id=team.lead_id,
        lead=ref(team.lead_id) if team.lead_id is not None else None,
        member_ids=list(team.member_ids),
        members=[ref(m) for m in team.member_ids],
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


def _view(row: DictRow) -> TeamView:
    return msgspec.convert(row, TeamView)


def get_team(conn: Connection[DictRow], team_id: UUID) -> TeamView | None:
    row = conn.execute(_SELECT + sql.SQL(" WHERE id = %s"), (team_id,)).fetchone()
    return _view(row) if row else None


def list_teams(
    conn: Connection[DictRow], filters: TeamFilters, limit: int = 25, cursor: str | None = None
) -> Page[TeamView]:
    """Teams in the order they were formed."""
    check_limit(limit)
    after = decode_cursor(cursor, "teams", tuple[int])[0] if cursor is not None else 0
    query = _SELECT + sql.SQL(" WHERE seq > %s")
    params: list[Any] = [after]
    if filters.q:
        query += sql.SQL(" AND name ILIKE %s")
        params.append(like_pattern(filters.q))
    query += sql.SQL(" ORDER BY seq LIMIT %s")
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    return page(rows, limit, "teams", lambda row: (row["seq"],), _view)
