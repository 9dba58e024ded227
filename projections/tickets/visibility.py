"""`domain.visibility.may_see`, translated to a filter on the tickets table. A property test
(tests/projections/test_visibility.py) holds the two equal for random tickets and viewers."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from domain.visibility import Viewer


def visible_to(viewer: Viewer) -> tuple[list[sql.Composable], list[Any]]:
    """WHERE clauses (joined with AND) and their parameters: the tickets `viewer` may see."""
    if viewer.sees_every_ticket:
        return [], []
    return (
        [sql.SQL("(reporter_id = %s OR assignee_ids @> ARRAY[%s]::uuid[] "
                 "OR team_id = ANY(%s::uuid[]))")],
        [viewer.id, viewer.id, list(viewer.team_ids)],
    )
