"""A notification's summary line for each kind of change."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.history import Change
from projections.notifications.summary import summary

DAVE = UUID("00000000-0000-4000-8000-00000000da7e")
MAX = UUID("00000000-0000-4000-8000-0000000000aa")
NAMES = {DAVE: "Dave", MAX: "Max"}


@pytest.mark.parametrize(("changes", "line"), [
    ({"status": Change("open", "in_progress")}, "Ada changed status to in progress"),
    ({"title": Change("a", "b")}, 'Ada changed the title to "b"'),
    ({"comment": Change(None, "hi")}, "Ada commented"),
    ({"comment": Change("hi", "hello")}, "Ada edited a comment"),
    ({"assignee_ids": Change([str(MAX)], [str(DAVE)])}, "Ada assigned Dave and unassigned Max"),
    ({"due_date": Change(None, "2030-01-02")}, "Ada set the due date to 2030-01-02"),
    ({"due_date": Change("2030-01-02", None)}, "Ada cleared the due date"),
    ({"attachment_ids": Change([], ["x"])}, "Ada attached a file"),
    ({"attachment_ids": Change(["x"], [])}, "Ada removed an attachment"),
    ({"links": Change([], [{}])}, "Ada linked a ticket"),
    ({"team_id": Change(None, str(DAVE))}, "Ada moved the ticket to a team"),
    ({"parent_id": Change(str(DAVE), None)}, "Ada cleared the parent ticket"),
    ({"description": Change("a", "b"), "priority": Change("low", "high"),
      "tags": Change([], ["x"])},
     "Ada changed the description, changed priority to high and changed the tags"),
])
def test_summary_lines(changes: dict[str, Change], line: str) -> None:
    assert summary("Ada", changes, created=False, names=lambda u: NAMES[u]) == line


def test_a_creation_is_one_line() -> None:
    assert summary("Ada", {"title": Change(None, "x")}, created=True,
                   names=lambda u: "") == "Ada created the ticket"
