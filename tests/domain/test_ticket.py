"""Ticket: given events, when a command, then events or an error."""

from __future__ import annotations

import uuid
from datetime import date
from itertools import product
from typing import Any

import pytest

from domain.errors import InvalidFields, NotCommentAuthor, TransitionNotAllowed, UnknownComment
from domain.ticket import Ticket
from domain.ticket_events import Comment
from domain.values import Priority, Role, Status, TicketType
from domain.visibility import Viewer, may_see
from tests.domain.given import (
    ALICE,
    AT,
    BOB,
    CAROL,
    COMMENT_ID,
    DAVE,
    LATER,
    PROJECT_ID,
    TICKET_ID,
    a_ticket,
    edit,
    given,
    stamp,
    when,
)

OPEN, IN_PROGRESS, RESOLVED, CLOSED = (
    Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED,
)

# The workflow exactly as API.md writes it, kept apart from domain.values.WORKFLOW on purpose.
LEGAL = {
    (OPEN, IN_PROGRESS), (OPEN, CLOSED),
    (IN_PROGRESS, OPEN), (IN_PROGRESS, RESOLVED), (IN_PROGRESS, CLOSED),
    (RESOLVED, CLOSED), (RESOLVED, IN_PROGRESS),
    (CLOSED, OPEN),
}
ALL_PAIRS = list(product(Status, Status))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def ticket_in(status: Status, **created: Any) -> Ticket:
    stream = a_ticket(**created)
    if status is not OPEN:
        stream.add(Ticket.StatusChanged, old_status=OPEN, status=status)
    ticket: Ticket = given(stream)
    assert ticket.status is status
    return ticket


def open_ticket(**fields: Any) -> Any:
    values: dict[str, Any] = {
        "ticket_id": TICKET_ID, "project_id": PROJECT_ID, "number": 7, "title": "Fix it",
    }
    values.update(fields)
    return when(None, Ticket.open, **values)


# --- created ---------------------------------------------------------------------------------


def test_open_records_created_with_defaults_and_the_actor_as_reporter() -> None:
    (created,) = open_ticket().then(
        (Ticket.Created, {
            "project_id": PROJECT_ID, "number": 7, "title": "Fix it", "description": None,
            "priority": Priority.MEDIUM, "type": TicketType.BUG, "tags": (), "due_date": None,
            "reporter_id": ALICE, "assignee_ids": (),
        })
    )
    ticket = created.mutate(None)
    assert ticket.id == TICKET_ID
    assert ticket.status is OPEN
    assert ticket.version == 1
    assert ticket.created_at == LATER
    assert ticket.updated_at is None
    assert ticket.comments == {}


def test_open_stores_trimmed_strings_and_collapses_duplicates() -> None:
    open_ticket(
        title="  Fix it  ", description="  some words \n", tags=[" ui ", "db", "ui"],
        assignee_ids=[BOB, DAVE, BOB], priority=Priority.URGENT, type=TicketType.TASK,
        due_date=date(2026, 12, 24),
    ).then(
        (Ticket.Created, {
            "title": "Fix it", "description": "some words", "tags": ("ui", "db"),
            "assignee_ids": (BOB, DAVE), "priority": Priority.URGENT, "type": TicketType.TASK,
            "due_date": date(2026, 12, 24),
        })
    )


def test_open_with_a_blank_description_stores_none() -> None:
    open_ticket(description="   ").then((Ticket.Created, {"description": None}))


def test_open_accepts_every_boundary_value() -> None:
    open_ticket(
        title="  " + "t" * 200 + "  ",
        description="d" * 20_000,
        tags=[f"tag-{i}" for i in range(19)] + ["a" * 40],
    ).then((Ticket.Created, {"title": "t" * 200}))
    open_ticket(title="x", tags=["0"]).then((Ticket.Created, {"title": "x", "tags": ("0",)}))


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": ""}, ["title"]),
        ({"title": "   \t "}, ["title"]),
        ({"title": "t" * 201}, ["title"]),
        ({"description": "d" * 20_001}, ["description"]),
        ({"tags": [f"t{i}" for i in range(21)]}, ["tags"]),
        ({"tags": ["Upper"]}, ["tags"]),
        ({"tags": ["under_score"]}, ["tags"]),
        ({"tags": ["   "]}, ["tags"]),
        ({"tags": ["a" * 41]}, ["tags"]),
        ({"title": "", "description": "d" * 20_001}, ["title", "description"]),
    ],
)
def test_open_refuses_invalid_fields_naming_each(fields: dict[str, Any], bad: list[str]) -> None:
    open_ticket(**fields).then_error(InvalidFields, fields=bad)


# Each would forge header lines in the assignees' email (`Subject`) or break a list's row:
# CR/LF, the line breaks of `str.splitlines` (FS, GS, RS, NEL, U+2028/2029), C0, DEL and C1.
HEADER_BREAKERS = [
    "x\r\nFrom : CEO <ceo@bank.test>\r\nBcc: all@bank.test",
    "line\nbreak", "file\x1cseparator", "group\x1dseparator", "record\x1eseparator",
    "next\x85line", "line\u2028separator", "paragraph\u2029separator", "bell\x07",
    "escape\x1b[31m", "delete\x7f", "c1\x9b", "tab\there",
]
# Nothing visible: zero-width spaces and joiners, direction marks, the BOM, a Hangul filler.
INVISIBLE_TITLES = ["\u200b", "\u200b\u200c\u200d", "\u200e\u200f\u202e", "\ufeff\u2060",
                    "\u3164", " \u200b \u00a0 "]


@pytest.mark.parametrize("title", HEADER_BREAKERS)
def test_a_title_must_be_one_line(title: str) -> None:
    open_ticket(title=title).then_error(InvalidFields, fields=["title"])
    ticket = given(a_ticket(title="Old"))
    when(ticket, edit(ticket), title=title).then_error(InvalidFields, fields=["title"])


@pytest.mark.parametrize("title", INVISIBLE_TITLES)
def test_a_title_with_nothing_visible_is_blank(title: str) -> None:
    open_ticket(title=title).then_error(InvalidFields, fields=["title"])


def test_a_title_of_any_script_with_marks_inside_is_accepted() -> None:
    title = "Café\u200d 日本語 \u202b\u0645\u0631\u062d\u0628\u0627\u202c"
    open_ticket(title=title).then((Ticket.Created, {"title": title}))


# --- edits: one event kind each --------------------------------------------------------------


def test_edit_title_records_old_and_new_trimmed() -> None:
    ticket = given(a_ticket(title="Old"))
    when(ticket, edit(ticket), title="  New  ").then(
        (Ticket.TitleChanged, {"old_title": "Old", "title": "New"})
    )
    assert ticket.title == "New"
    assert ticket.updated_at == LATER


def test_edit_description_records_old_and_new() -> None:
    ticket = given(a_ticket(description="before"))
    when(ticket, edit(ticket), description=" after ").then(
        (Ticket.DescriptionChanged, {"old_description": "before", "description": "after"})
    )
    assert ticket.description == "after"


def test_clearing_the_description_records_none() -> None:
    ticket = given(a_ticket(description="before"))
    when(ticket, edit(ticket), description=None).then(
        (Ticket.DescriptionChanged, {"old_description": "before", "description": None})
    )


def test_sending_a_blank_description_clears_it() -> None:
    """PATCH {"description": ""} is a valid value (≤ 20,000 after trimming) that was sent, so it
    changes the description. Regression: "" used to count as "not sent" (fixed in cc3bb69)."""
    ticket = given(a_ticket(description="before"))
    when(ticket, edit(ticket), description="  ").then(
        (Ticket.DescriptionChanged, {"old_description": "before", "description": None})
    )


def test_edit_priority_records_old_and_new() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), priority=Priority.URGENT).then(
        (Ticket.PriorityChanged, {"old_priority": Priority.MEDIUM, "priority": Priority.URGENT})
    )


def test_edit_type_records_old_and_new() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), type=TicketType.FEATURE).then(
        (Ticket.TypeChanged, {"old_type": TicketType.BUG, "type": TicketType.FEATURE})
    )


def test_edit_tags_records_the_cleaned_list() -> None:
    ticket = given(a_ticket(tags=("ui",)))
    when(ticket, edit(ticket), tags=[" db ", "db", "api"]).then(
        (Ticket.TagsChanged, {"old_tags": ("ui",), "tags": ("db", "api")})
    )


def test_edit_tags_to_none_at_all() -> None:
    ticket = given(a_ticket(tags=("ui", "db")))
    when(ticket, edit(ticket), tags=[]).then(
        (Ticket.TagsChanged, {"old_tags": ("ui", "db"), "tags": ()})
    )


def test_edit_due_date_sets_and_clears() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), due_date=date(2027, 1, 31)).then(
        (Ticket.DueDateChanged, {"old_due_date": None, "due_date": date(2027, 1, 31)})
    )
    when(ticket, edit(ticket), due_date=None, stamp=stamp(at=LATER)).then(
        (Ticket.DueDateChanged, {"old_due_date": date(2027, 1, 31), "due_date": None})
    )
    assert ticket.due_date is None


def test_an_edit_of_many_fields_records_one_event_each_under_one_command() -> None:
    ticket = given(a_ticket(title="Old", tags=("ui",)))
    events = when(
        ticket, edit(ticket), title="New", status=IN_PROGRESS, priority=Priority.HIGH,
        type=TicketType.TASK, tags=["db"], due_date=date(2027, 2, 1), description="why",
    ).then(
        Ticket.TitleChanged, Ticket.DescriptionChanged, Ticket.StatusChanged,
        Ticket.PriorityChanged, Ticket.TypeChanged, Ticket.TagsChanged, Ticket.DueDateChanged,
    )
    assert len({e.command_id for e in events}) == 1
    assert (ticket.title, ticket.status, ticket.priority, ticket.type, ticket.tags) == (
        "New", IN_PROGRESS, Priority.HIGH, TicketType.TASK, ("db",),
    )


def test_fields_sent_with_their_current_values_record_nothing() -> None:
    ticket = given(a_ticket(title="Same", description="same", tags=("a", "b"),
                            due_date=date(2027, 1, 1)))
    when(
        ticket, edit(ticket), title=" Same ", description="same", priority=Priority.MEDIUM,
        type=TicketType.BUG, tags=["a", "b", "a"], due_date=date(2027, 1, 1),
    ).then_nothing()
    when(ticket, edit(ticket)).then_nothing()


def test_clearing_what_is_already_empty_records_nothing() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), description=None, due_date=None).then_nothing()


# --- status workflow ---------------------------------------------------------------------------


def test_the_workflow_table_has_eight_legal_transitions_and_no_self_loop() -> None:
    assert len(LEGAL) == 8
    assert len(ILLEGAL) == 8
    assert all((s, s) in ILLEGAL for s in Status)


@pytest.mark.parametrize(("old", "new"), sorted(LEGAL), ids=lambda s: s.value)
def test_legal_transition_records_status_changed(old: Status, new: Status) -> None:
    ticket = ticket_in(old)
    when(ticket, edit(ticket), status=new).then(
        (Ticket.StatusChanged, {"old_status": old, "status": new})
    )
    assert ticket.status is new


@pytest.mark.parametrize(("old", "new"), sorted(ILLEGAL), ids=lambda s: s.value)
def test_illegal_transition_is_refused_and_records_nothing(old: Status, new: Status) -> None:
    ticket = ticket_in(old)
    when(ticket, edit(ticket), status=new).then_error(TransitionNotAllowed)
    assert ticket.status is old


def test_a_refused_transition_refuses_the_whole_edit() -> None:
    ticket = ticket_in(RESOLVED, title="Old")
    when(ticket, edit(ticket), title="New", priority=Priority.LOW, status=OPEN).then_error(
        TransitionNotAllowed, match="resolved to open"
    )
    assert ticket.title == "Old"


def test_an_invalid_field_refuses_the_whole_edit() -> None:
    ticket = given(a_ticket(title="Old"))
    when(ticket, edit(ticket), title="New", status=IN_PROGRESS, priority=Priority.HIGH,
         tags=["ok", "Not OK"]).then_error(InvalidFields, fields=["tags"])
    when(ticket, edit(ticket), title=" ", description="d" * 20_001, tags=["!"],
         status=IN_PROGRESS).then_error(InvalidFields, fields=["title", "description", "tags"])
    assert (ticket.title, ticket.status, ticket.version) == ("Old", OPEN, 1)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": "  "}, ["title"]),
        ({"title": "t" * 201}, ["title"]),
        ({"description": "d" * 20_001}, ["description"]),
        ({"tags": [f"t{i}" for i in range(21)]}, ["tags"]),
        ({"tags": ["a" * 41]}, ["tags"]),
        ({"tags": ["a b"]}, ["tags"]),
    ],
)
def test_edit_refuses_invalid_fields(fields: dict[str, Any], bad: list[str]) -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), **fields).then_error(InvalidFields, fields=bad)


def test_edit_accepts_boundary_values() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), title=" " + "t" * 200 + " ", description="d" * 20_000,
         tags=[f"t{i}" for i in range(20)]).then(
        Ticket.TitleChanged, Ticket.DescriptionChanged, Ticket.TagsChanged,
    )
    assert len(ticket.tags) == 20


# --- assignees ---------------------------------------------------------------------------------


def test_assign_records_who_was_added_and_who_was_removed() -> None:
    ticket = given(a_ticket(assignee_ids=(ALICE, BOB)))
    when(ticket, ticket.assign, [BOB, DAVE, DAVE]).then(
        (Ticket.AssigneesChanged, {
            "old_assignee_ids": (ALICE, BOB), "assignee_ids": (BOB, DAVE),
            "added": (DAVE,), "removed": (ALICE,),
        })
    )
    assert ticket.assignee_ids == (BOB, DAVE)


def test_assignees_are_at_most_a_hundred_different_people() -> None:
    hundred = tuple(uuid.UUID(int=n) for n in range(1, 101))
    ticket = given(a_ticket())
    when(ticket, ticket.assign, [*hundred, *hundred]).then(
        (Ticket.AssigneesChanged, {"assignee_ids": hundred})
    )
    when(ticket, ticket.assign, [*hundred, uuid.UUID(int=101)]).then_error(
        InvalidFields, fields=["user_ids"])
    open_ticket(assignee_ids=[ALICE] * 5_000).then((Ticket.Created, {"assignee_ids": (ALICE,)}))
    open_ticket(assignee_ids=[uuid.UUID(int=n) for n in range(101)]).then_error(
        InvalidFields, fields=["assignee_ids"])


def test_assign_nobody_removes_everyone() -> None:
    ticket = given(a_ticket(assignee_ids=(ALICE, BOB)))
    when(ticket, ticket.assign, []).then(
        (Ticket.AssigneesChanged, {"assignee_ids": (), "added": (), "removed": (ALICE, BOB)})
    )


def test_assign_the_same_list_still_records_a_change() -> None:
    """The contract: every PUT …/assignees records at least one event and raises the version."""
    ticket = given(a_ticket(assignee_ids=(BOB,)))
    when(ticket, ticket.assign, [BOB]).then(
        (Ticket.AssigneesChanged, {"assignee_ids": (BOB,), "added": (), "removed": ()})
    )
    assert ticket.version == 2


def test_a_reporter_sees_tickets_it_reported_or_is_assigned_to_only() -> None:
    ticket = given(a_ticket(actor_id=CAROL, assignee_ids=(BOB,)))
    assert may_see(Viewer(id=CAROL, role=Role.REPORTER), ticket)
    assert may_see(Viewer(id=BOB, role=Role.REPORTER), ticket)
    assert not may_see(Viewer(id=DAVE, role=Role.REPORTER), ticket)
    assert may_see(Viewer(id=DAVE, role=Role.DEVELOPER), ticket)


# --- comments ----------------------------------------------------------------------------------


def test_comment_records_the_trimmed_body_by_its_author() -> None:
    ticket = given(a_ticket())
    when(ticket, ticket.comment, COMMENT_ID, "  looks good \n", stamp=stamp(BOB)).then(
        (Ticket.Commented, {"comment_id": COMMENT_ID, "body": "looks good", "actor_id": BOB})
    )
    assert ticket.comments[COMMENT_ID] == Comment(
        id=COMMENT_ID, author_id=BOB, body="looks good", created_at=LATER, edited_at=None
    )


@pytest.mark.parametrize("body", ["", "   ", "c" * 20_001])
def test_comment_refuses_a_blank_or_long_body(body: str) -> None:
    ticket = given(a_ticket())
    when(ticket, ticket.comment, COMMENT_ID, body).then_error(InvalidFields, fields=["body"])


def test_comment_accepts_20000_characters() -> None:
    ticket = given(a_ticket())
    when(ticket, ticket.comment, COMMENT_ID, "c" * 20_000).then(Ticket.Commented)


def commented(author: Any = BOB, body: str = "first words") -> Ticket:
    ticket: Ticket = given(
        a_ticket().add(Ticket.Commented, actor_id=author, comment_id=COMMENT_ID, body=body)
    )
    assert ticket.comments[COMMENT_ID].author_id == author
    return ticket


def test_edit_comment_by_its_author_records_old_and_new_body() -> None:
    ticket = commented(BOB, "first words")
    when(ticket, ticket.edit_comment, COMMENT_ID, " better words ", stamp=stamp(BOB)).then(
        (Ticket.CommentEdited, {
            "comment_id": COMMENT_ID, "old_body": "first words", "body": "better words",
        })
    )
    comment = ticket.comments[COMMENT_ID]
    assert (comment.body, comment.author_id, comment.created_at, comment.edited_at) == (
        "better words", BOB, AT, LATER,
    )


@pytest.mark.parametrize("other", [ALICE, CAROL])
def test_edit_comment_by_anyone_else_is_refused(other: Any) -> None:
    ticket = commented(BOB)
    when(ticket, ticket.edit_comment, COMMENT_ID, "rewritten", stamp=stamp(other)).then_error(
        NotCommentAuthor
    )
    assert ticket.comments[COMMENT_ID].body == "first words"


def test_edit_of_an_unknown_comment_is_refused() -> None:
    ticket = commented(BOB)
    when(ticket, ticket.edit_comment, TICKET_ID, "x", stamp=stamp(BOB)).then_error(UnknownComment)


def test_edit_comment_refuses_a_blank_body_and_keeps_the_old_one() -> None:
    ticket = commented(BOB)
    when(ticket, ticket.edit_comment, COMMENT_ID, "  ", stamp=stamp(BOB)).then_error(
        InvalidFields, fields=["body"]
    )


def test_edit_comment_with_the_same_body_records_nothing() -> None:
    ticket = commented(BOB, "same")
    when(ticket, ticket.edit_comment, COMMENT_ID, " same ", stamp=stamp(BOB)).then_nothing()


# --- what history shows -----------------------------------------------------------------------


def test_every_change_event_names_its_field_with_from_and_to() -> None:
    ticket = given(a_ticket(title="Old", tags=("a",)))
    events = when(ticket, edit(ticket), title="New", status=IN_PROGRESS, tags=["b"]).then(
        Ticket.TitleChanged, Ticket.StatusChanged, Ticket.TagsChanged
    )
    assert [e.changes() for e in events] == [
        {"title": ("Old", "New")},
        {"status": (OPEN, IN_PROGRESS)},
        {"tags": (["a"], ["b"])},
    ]
    events = when(ticket, ticket.assign, [BOB]).then(Ticket.AssigneesChanged)
    assert events[0].changes() == {"assignee_ids": ([], [BOB])}


def test_a_nul_character_is_refused_in_any_text_field() -> None:
    ticket = given(a_ticket())
    when(ticket, edit(ticket), title="bad\x00title", description="also\x00bad").then_error(
        InvalidFields, fields=["title", "description"]
    )
