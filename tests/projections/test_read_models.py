"""Given events recorded through the real Trail app, then the read models hold these rows."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest
from psycopg.rows import DictRow

from commands.messages import (
    ArchiveProject,
    AssignTicket,
    ChangeUser,
    CommentOnTicket,
    EditComment,
    EditTicket,
    ReviseProject,
)
from commands.services import Commands
from domain.values import Priority, Role, Status, TicketType, UserStatus
from domain.visibility import Viewer
from projections.comments import get_comment, list_comments
from projections.errors import InvalidQuery
from projections.projects import ProjectFilters, get_project, list_projects
from projections.stats import StatsFilters, stats
from projections.tickets import TicketFilters, get_ticket, list_tickets
from projections.users import UserFilters, get_user, list_users
from tests import log
from tests.projections.conftest import People, new_project, new_ticket, project_all

Conn = psycopg.Connection[DictRow]


def admin_view(people: People) -> Viewer:
    return Viewer(id=people.admin.id, role=Role.ADMIN)


def test_a_ticket_row_holds_every_field_after_a_history_of_changes(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin, key="ROW")
    ticket_id = new_ticket(app, people.dev, project_id, "Crash on save", description="Boom",
                           tags=("db",), assignee_ids=(people.dev.id,))
    app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, status=Status.IN_PROGRESS,
                                           priority=Priority.URGENT, type=TicketType.TASK,
                                           tags=("db", "ui"), due_date=date(2030, 1, 2)))
    app.tickets.assign(people.dev, AssignTicket(ticket_id=ticket_id,
                                               user_ids=(people.dev2.id, people.admin.id)))
    app.tickets.comment(people.dev2, CommentOnTicket(ticket_id=ticket_id, body="looking"))
    project_all(trail_env)

    view = get_ticket(conn, ticket_id, admin_view(people))
    aggregate = app.tickets.get(people.admin, ticket_id)
    assert view is not None
    assert (view.number, view.project_id) == (1, project_id)
    assert (view.title, view.description) == ("Crash on save", "Boom")
    assert (view.status, view.priority, view.type) == (
        Status.IN_PROGRESS, Priority.URGENT, TicketType.TASK)
    assert view.tags == ["db", "ui"] and view.due_date == date(2030, 1, 2)
    assert view.assignee_ids == [people.dev2.id, people.admin.id]
    assert view.reporter_id == people.dev.id
    assert view.version == aggregate.version == 8
    assert view.created_at == aggregate.created_at
    assert view.updated_at == aggregate.updated_at


def test_a_new_ticket_has_no_updated_at(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    ticket_id = new_ticket(app, people.dev, new_project(app, people.admin))
    project_all(trail_env)
    view = get_ticket(conn, ticket_id, admin_view(people))
    assert view is not None and view.version == 1 and view.updated_at is None


def test_full_text_finds_title_description_and_comment_words(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin)
    by_title = new_ticket(app, people.dev, project_id, "Quokka overflow")
    by_description = new_ticket(app, people.dev, project_id, "Other", description="a quokka bug")
    by_comment = new_ticket(app, people.dev, project_id, "Third")
    app.tickets.comment(people.dev, CommentOnTicket(ticket_id=by_comment, body="first words"))
    comment = app.tickets.comment(
        people.dev, CommentOnTicket(ticket_id=by_comment, body="no animal")
    )
    app.tickets.edit_comment(people.dev, EditComment(ticket_id=by_comment, comment_id=comment.id,
                                             body="the quokkas again"))
    project_all(trail_env)

    def found(q: str) -> set[object]:
        filters = TicketFilters(project_id=project_id, q=q)
        return {t.id for t in list_tickets(conn, filters, admin_view(people), 100).items}

    assert found("quokka") == {by_title, by_description, by_comment}
    assert found("animal") == set(), "an edited comment's old words are gone"
    assert found("first") == {by_comment}


def test_a_long_discussion_stays_searchable_and_never_stops_the_projection(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    """Over 1 MB of distinct words in comments would not fit a PostgreSQL tsvector."""
    project_id = new_project(app, people.admin)
    ticket_id = new_ticket(app, people.dev, project_id, "Long talk")
    app.tickets.comment(people.dev, CommentOnTicket(ticket_id=ticket_id, body="wombatish opener"))
    for n in range(60):
        words = " ".join(f"w{n}x{i}q" for i in range(2_500))[:20_000]
        app.tickets.comment(people.dev, CommentOnTicket(ticket_id=ticket_id, body=words))
    project_all(trail_env)

    filters = TicketFilters(project_id=project_id, q="wombatish")
    assert [t.id for t in list_tickets(conn, filters, admin_view(people), 10).items] == [ticket_id]
    assert get_ticket(conn, ticket_id, admin_view(people)).version == 62  # type: ignore[union-attr]


def test_filters_and_priority_sort(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin)
    low = new_ticket(app, people.dev, project_id, "low", priority=Priority.LOW, tags=("x",))
    urgent = new_ticket(app, people.dev, project_id, "urgent", priority=Priority.URGENT,
                        due_date=date(2030, 1, 1), assignee_ids=(people.dev2.id,))
    high = new_ticket(app, people.dev, project_id, "high", priority=Priority.HIGH,
                      type=TicketType.FEATURE, due_date=date(2029, 1, 1))
    urgent2 = new_ticket(app, people.dev, project_id, "urgent too", priority=Priority.URGENT)
    app.tickets.edit(people.dev, EditTicket(ticket_id=high, status=Status.IN_PROGRESS))
    project_all(trail_env)
    viewer = admin_view(people)

    def ids(**filters: object) -> list[object]:
        page = list_tickets(conn, TicketFilters(project_id=project_id, **filters), viewer, 100)
        return [t.id for t in page.items]

    assert ids(sort="priority") == [urgent, urgent2, high, low]
    assert ids(sort="-created_at") == [urgent2, high, urgent, low]
    assert ids(sort="created_at") == [low, urgent, high, urgent2]
    assert ids(sort="-updated_at")[0] == high
    assert ids(sort="due_date") == [high, urgent, low, urgent2]
    assert ids(status=Status.IN_PROGRESS) == [high]
    assert ids(priority=Priority.URGENT) == [urgent2, urgent]
    assert ids(type=TicketType.FEATURE) == [high]
    assert ids(tag="x") == [low]
    assert ids(assignee_id=people.dev2.id) == [urgent]
    assert ids(reporter_id=people.dev.id, sort="created_at") == [low, urgent, high, urgent2]
    assert ids(due_before=date(2030, 1, 1)) == [high]


def test_a_reporter_sees_only_tickets_it_reported_or_is_assigned_to(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin)
    own = new_ticket(app, people.reporter, project_id, "mine")
    assigned = new_ticket(app, people.dev, project_id, "assigned")
    app.tickets.assign(people.dev, AssignTicket(ticket_id=assigned, user_ids=(people.dev2.id,)))
    hidden = new_ticket(app, people.dev, project_id, "hidden")
    app.accounts.change_user(people.admin, ChangeUser(user_id=people.dev2.id, role=Role.REPORTER))
    project_all(trail_env)
    try:
        reporter = Viewer(id=people.reporter.id, role=Role.REPORTER)
        page = list_tickets(conn, TicketFilters(project_id=project_id), reporter)
        assert [t.id for t in page.items] == [own]
        assert get_ticket(conn, hidden, reporter) is None
        demoted = Viewer(id=people.dev2.id, role=Role.REPORTER)
        assert get_ticket(conn, assigned, demoted) is not None
        assert get_ticket(conn, hidden, demoted) is None
        assert get_ticket(conn, hidden, Viewer(id=people.dev.id, role=Role.DEVELOPER))
    finally:
        app.accounts.change_user(
            people.admin, ChangeUser(user_id=people.dev2.id, role=Role.DEVELOPER)
        )
        project_all(trail_env)


def test_pages_are_stable_while_tickets_arrive(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin)
    first = [new_ticket(app, people.dev, project_id, f"t{i}") for i in range(5)]
    project_all(trail_env)
    filters = TicketFilters(project_id=project_id, sort="created_at")
    page = list_tickets(conn, filters, admin_view(people), 2)
    new_ticket(app, people.dev, project_id, "late")
    project_all(trail_env)
    seen = [t.id for t in page.items]
    while page.next_cursor:
        page = list_tickets(conn, filters, admin_view(people), 2, page.next_cursor)
        seen += [t.id for t in page.items]
    assert seen[:5] == first and len(seen) == 6


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WyJ1c2VycyIsIDFd"])
def test_a_cursor_that_does_not_decode_names_the_cursor(
    conn: Conn, people: People, cursor: str
) -> None:
    with pytest.raises(InvalidQuery) as raised:
        list_tickets(conn, TicketFilters(), admin_view(people), 10, cursor)
    assert raised.value.field == "cursor"


def test_bad_sort_and_limit_name_their_field(conn: Conn, people: People) -> None:
    with pytest.raises(InvalidQuery) as raised:
        list_tickets(conn, TicketFilters(sort="title"), admin_view(people))
    assert raised.value.field == "sort"
    with pytest.raises(InvalidQuery) as raised:
        list_tickets(conn, TicketFilters(), admin_view(people), 101)
    assert raised.value.field == "limit"


def test_comments_oldest_first_with_edits(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    ticket_id = new_ticket(app, people.dev, new_project(app, people.admin))
    ids = [app.tickets.comment(people.dev, CommentOnTicket(ticket_id=ticket_id, body=f"c{i}")).id
           for i in range(3)]
    app.tickets.edit_comment(
        people.dev, EditComment(ticket_id=ticket_id, comment_id=ids[1], body="new")
    )
    project_all(trail_env)

    first = list_comments(conn, ticket_id, 2)
    rest = list_comments(conn, ticket_id, 2, first.next_cursor)
    assert [c.id for c in first.items + rest.items] == ids and rest.next_cursor is None
    edited = get_comment(conn, ticket_id, ids[1])
    aggregate = app.tickets.get(people.admin, ticket_id).comments[ids[1]]
    assert edited is not None and edited.body == "new" and edited.author_id == people.dev.id
    assert (edited.created_at, edited.edited_at) == (aggregate.created_at, aggregate.edited_at)
    assert get_comment(conn, ticket_id, ids[0]).edited_at is None  # type: ignore[union-attr]


def test_users_fold_their_events_and_filter(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    from tests.projections.conftest import register

    user_id = register(app, "Zed Zebra")
    app.accounts.change_user(people.admin, ChangeUser(user_id=user_id, name="Zed Zebrafish",
                                             role=Role.DEVELOPER, status=UserStatus.DEACTIVATED))
    project_all(trail_env)
    view = get_user(conn, user_id)
    aggregate = app.accounts.user(user_id)
    assert view is not None
    assert (view.name, view.email, view.role, view.status) == (
        "Zed Zebrafish", aggregate.email, Role.DEVELOPER, UserStatus.DEACTIVATED)
    assert view.updated_at == aggregate.modified_on
    found = list_users(conn, UserFilters(q="ZEBRA", status=UserStatus.DEACTIVATED))
    assert [u.id for u in found.items] == [user_id]
    assert list_users(conn, UserFilters(q="%")).items == []
    devs = list_users(conn, UserFilters(role=Role.DEVELOPER), 1)
    assert devs.items[0].id == people.dev.id and devs.next_cursor is not None


def test_projects_count_open_tickets_and_fold_their_events(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin, name="Counting Things", description="x")
    tickets = [new_ticket(app, people.dev, project_id, f"t{i}") for i in range(4)]
    app.tickets.edit(people.dev, EditTicket(ticket_id=tickets[0], status=Status.CLOSED))
    app.tickets.edit(people.dev, EditTicket(ticket_id=tickets[1], status=Status.IN_PROGRESS))
    app.tickets.edit(people.dev, EditTicket(ticket_id=tickets[1], status=Status.RESOLVED))
    app.tickets.edit(people.dev, EditTicket(ticket_id=tickets[2], status=Status.CLOSED))
    app.tickets.edit(people.dev, EditTicket(ticket_id=tickets[2], status=Status.OPEN))
    app.projects.revise(people.admin, ReviseProject(project_id=project_id,
                                                   name="Counted Things", description=None))
    app.projects.archive(people.admin, ArchiveProject(project_id=project_id))
    project_all(trail_env)

    view = get_project(conn, project_id)
    assert view is not None
    assert (view.name, view.description, view.archived, view.open_tickets) == (
        "Counted Things", None, True, 2)
    assert [p.id for p in list_projects(conn, ProjectFilters(q="counted")).items] == [project_id]


def test_stats_count_first_resolution_and_the_median(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin)
    a = new_ticket(app, people.dev, project_id, "a", priority=Priority.HIGH)
    new_ticket(app, people.dev, project_id, "b", type=TicketType.SUPPORT)
    app.tickets.edit(people.dev, EditTicket(ticket_id=a, status=Status.CLOSED))
    app.tickets.edit(people.dev, EditTicket(ticket_id=a, status=Status.OPEN))
    app.tickets.edit(people.dev, EditTicket(ticket_id=a, status=Status.CLOSED))
    project_all(trail_env)

    history = log.history(app, a)
    today = history[0].at.date()
    result = stats(conn, StatsFilters(project_id=project_id))
    assert result.by_status == {"open": 1, "in_progress": 0, "resolved": 0, "closed": 1}
    assert result.by_priority == {"low": 0, "medium": 1, "high": 1, "urgent": 0}
    assert result.by_type == {"bug": 1, "feature": 0, "task": 0, "support": 1}
    assert [(d.date, d.count) for d in result.created_per_day] == [(today, 2)]
    assert [(d.date, d.count) for d in result.resolved_per_day] == [(today, 1)]
    first_resolution = (history[1].at - history[0].at).total_seconds()
    assert result.median_seconds_to_resolve == pytest.approx(first_resolution, abs=1e-6)

    elsewhere = stats(conn, StatsFilters(project_id=project_id, to=today - timedelta(days=1)))
    assert elsewhere.median_seconds_to_resolve is None and elsewhere.created_per_day == []
    with pytest.raises(InvalidQuery):
        stats(conn, StatsFilters(from_=today, to=today - timedelta(days=1)))
