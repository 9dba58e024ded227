"""The one visibility rule and its SQL translation agree: for random tickets and viewers, the rows
the read side's filter returns are exactly the tickets `domain.visibility.may_see` allows."""

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


class Audience(msgspec.Struct, frozen=True):
    id: UUID
    reporter_id: UUID
    assignee_ids: tuple[UUID, ...]


people = st.sampled_from(PEOPLE)
audiences = st.lists(
    st.builds(
        Audience,
        id=st.uuids(),
        reporter_id=people,
        assignee_ids=st.lists(people, max_size=3, unique=True).map(tuple),
    ),
    max_size=12,
)
viewers = st.builds(Viewer, id=people, role=st.sampled_from(Role))


@pytest.fixture(scope="module")
def conn(scratch_database_url: str) -> Iterator[psycopg.Connection[DictRow]]:
    with psycopg.connect(scratch_database_url, row_factory=dict_row, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE tickets (id uuid PRIMARY KEY, reporter_id uuid NOT NULL, "
            "assignee_ids uuid[] NOT NULL)"
        )
        yield conn


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=audiences, viewer=viewers)
def test_the_sql_filter_is_the_domain_rule(
    conn: psycopg.Connection[DictRow], tickets: list[Audience], viewer: Viewer
) -> None:
    with conn.transaction(force_rollback=True):
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tickets (id, reporter_id, assignee_ids) VALUES (%s, %s, %s)",
                [(t.id, t.reporter_id, list(t.assignee_ids)) for t in tickets],
            )
        clauses, params = visible_to(viewer)
        query = sql.SQL("SELECT id FROM tickets")
        if clauses:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
        seen = {row["id"] for row in conn.execute(query, params)}
    assert seen == {t.id for t in tickets if may_see(viewer, t)}


def test_the_rule_itself() -> None:
    reporter, assignee, stranger = (uuid.uuid4() for _ in range(3))
    ticket = Audience(id=uuid.uuid4(), reporter_id=reporter, assignee_ids=(assignee,))
    assert may_see(Viewer(id=reporter, role=Role.REPORTER), ticket)
    assert may_see(Viewer(id=assignee, role=Role.REPORTER), ticket)
    assert not may_see(Viewer(id=stranger, role=Role.REPORTER), ticket)
    assert may_see(Viewer(id=stranger, role=Role.DEVELOPER), ticket)
    assert may_see(Viewer(id=stranger, role=Role.ADMIN), ticket)
