"""The one visibility rule and its SQL translation agree: for random tickets, teams, memberships
and viewers, the rows the read side's filter returns are exactly the tickets
`domain.visibility.may_see` allows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from uuid import UUID

import msgspec
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from domain.values import Role
from domain.visibility import Viewer, may_see
from projections.tickets.visibility import visible_to

PEOPLE = [UUID(int=n) for n in range(1, 6)]
TEAMS = [UUID(int=n) for n in range(100, 104)]


class Audience(msgspec.Struct, frozen=True):
    id: UUID
    reporter_id: UUID
    assignee_ids: tuple[UUID, ...]
    team_id: UUID | None


people = st.sampled_from(PEOPLE)
some_teams = st.frozensets(st.sampled_from(TEAMS), max_size=3)
audiences = st.lists(
    st.builds(
        Audience,
        id=st.uuids(),
        reporter_id=people,
        assignee_ids=st.lists(people, max_size=3, unique=True).map(tuple),
        team_id=st.none() | st.sampled_from(TEAMS),
    ),
    max_size=12,
)


@st.composite
def viewers(draw: st.DrawFn) -> Viewer:
    """A viewer in some teams, leading some of them (a lead is always a member)."""
    teams = draw(some_teams)
    led: frozenset[UUID] = frozenset()
    if teams:
        led = draw(st.frozensets(st.sampled_from(sorted(teams))))
    return Viewer(id=draw(people), role=draw(st.sampled_from(Role)), team_ids=teams,
                  led_team_ids=led)


@pytest.fixture(scope="module")
def conn(scratch_database_url: str) -> Iterator[psycopg.Connection[DictRow]]:
    with psycopg.connect(scratch_database_url, row_factory=dict_row, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE tickets (id uuid PRIMARY KEY, reporter_id uuid NOT NULL, "
            "assignee_ids uuid[] NOT NULL, team_id uuid)"
        )
        yield conn


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=audiences, viewer=viewers())
def test_the_sql_filter_is_the_domain_rule(
    conn: psycopg.Connection[DictRow], tickets: list[Audience], viewer: Viewer
) -> None:
    with conn.transaction(force_rollback=True):
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tickets (id, reporter_id, assignee_ids, team_id) "
                "VALUES (%s, %s, %s, %s)",
                [(t.id, t.reporter_id, list(t.assignee_ids), t.team_id) for t in tickets],
            )
        clauses, params = visible_to(viewer)
        query = sql.SQL("SELECT id FROM tickets")
        if clauses:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
        seen = {row["id"] for row in conn.execute(query, params)}
    assert seen == {t.id for t in tickets if may_see(viewer, t)}


def test_the_rule_itself() -> None:
    reporter, assignee, stranger = (uuid.uuid4() for _ in range(3))
    ticket = Audience(id=uuid.uuid4(), reporter_id=reporter, assignee_ids=(assignee,),
                      team_id=None)
    assert may_see(Viewer(id=reporter, role=Role.REPORTER), ticket)
    assert may_see(Viewer(id=assignee, role=Role.REPORTER), ticket)
    assert not may_see(Viewer(id=stranger, role=Role.REPORTER), ticket)
    assert may_see(Viewer(id=stranger, role=Role.DEVELOPER), ticket)
    assert may_see(Viewer(id=stranger, role=Role.ADMIN), ticket)


def test_a_team_ticket_is_seen_by_the_team_members_whatever_their_role() -> None:
    team, other = TEAMS[0], TEAMS[1]
    ticket = Audience(id=uuid.uuid4(), reporter_id=PEOPLE[0], assignee_ids=(), team_id=team)
    member = Viewer(id=PEOPLE[1], role=Role.REPORTER, team_ids=frozenset({team}))
    outsider = Viewer(id=PEOPLE[1], role=Role.REPORTER, team_ids=frozenset({other}))
    assert may_see(member, ticket)
    assert not may_see(outsider, ticket)
