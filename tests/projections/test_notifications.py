"""The notifications model: who is notified of which command, what it says, read marks, and a
rebuild (or any batch size) giving the very same rows."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import DictRow

from commands.messages import (
    AssignTicket,
    ChangeUser,
    CommentOnTicket,
    CreateTeam,
    EditTicket,
    MarkAllNotificationsRead,
    MarkNotificationRead,
    PostMessage,
    SetTeamMembers,
    WatchTicket,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.values import Priority, Role, Status, UserStatus
from domain.visibility import Viewer
from projections import loading
from projections.catalog import READ_MODELS
from projections.notifications import (
    NotificationsProjection,
    list_notifications,
    ticket_watchers,
    unread_count,
)
from projections.notifications import rows as notification_rows
from projections.rebuild import rebuild
from projections.runner import catch_up
from tests.projections.conftest import People, new_project, new_ticket, project_all, register

Conn = psycopg.Connection[DictRow]


def inbox(conn: Conn, user: Actor) -> list[tuple[str, dict[str, Any]]]:
    """(summary, changes) of the user's notifications, oldest first."""
    page = list_notifications(conn, Viewer(id=user.id, role=user.role), limit=100)
    return [(n.summary, {f: (c.from_, c.to) for f, c in n.changes.items()})
            for n in reversed(page.items)]


def summaries(conn: Conn, user: Actor) -> list[str]:
    return [summary for summary, _ in inbox(conn, user)]


@pytest.fixture(scope="module")
def project_id(app: Commands, people: People) -> uuid.UUID:
    return new_project(app, people.admin, key="NOTE")


def test_watchers_hear_of_every_command_but_their_own(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], project_id: uuid.UUID
) -> None:
    rita, dev, dev2, admin = people.reporter, people.dev, people.dev2, people.admin
    project_all(trail_env)
    before = {u.id: len(summaries(conn, u)) for u in (rita, dev, dev2, admin)}
    ticket_id = new_ticket(app, rita, project_id, "Login fails")
    app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=(dev.id,)))
    app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, status=Status.IN_PROGRESS,
                                     priority=Priority.HIGH))
    app.tickets.comment(dev2, CommentOnTicket(ticket_id=ticket_id, body="Same here"))
    # Nothing a reader would see: nobody hears of it.
    app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=(dev.id,)))
    project_all(trail_env)

    def new(user: Actor) -> list[str]:
        return summaries(conn, user)[before[user.id]:]

    assert new(rita) == [
        "Ada Admin assigned Dev One",
        "Dev One changed status to in progress and changed priority to high",
        "Dev Two commented",
    ]
    assert new(dev) == ["Ada Admin assigned Dev One", "Dev Two commented"]
    assert new(dev2) == []
    assert new(admin) == []
    changes = inbox(conn, rita)[-2][1]
    assert changes == {"status": ("open", "in_progress"), "priority": ("medium", "high")}
    assert inbox(conn, rita)[-1][1] == {"comment": (None, "Same here")}


def test_choosing_not_to_watch_holds_until_one_takes_part_again(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], project_id: uuid.UUID
) -> None:
    rita, dev, dev2, admin = people.reporter, people.dev, people.dev2, people.admin
    ticket_id = new_ticket(app, rita, project_id, "Slow page")
    app.tickets.comment(dev2, CommentOnTicket(ticket_id=ticket_id, body="I can look"))
    app.watching.choose(rita, WatchTicket(ticket_id=ticket_id, watching=False))
    app.watching.choose(dev2, WatchTicket(ticket_id=ticket_id, watching=False))
    app.watching.choose(admin, WatchTicket(ticket_id=ticket_id, watching=True))
    project_all(trail_env)
    counts = {u.id: len(summaries(conn, u)) for u in (rita, dev2, admin)}
    app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, title="Slow search page"))
    project_all(trail_env)
    assert len(summaries(conn, rita)) == counts[rita.id]
    assert len(summaries(conn, dev2)) == counts[dev2.id]
    assert summaries(conn, admin)[-1] == 'Dev One changed the title to "Slow search page"'
    assert [u.name for u in ticket_watchers(conn, ticket_id)] == ["Ada Admin"]

    app.tickets.comment(dev2, CommentOnTicket(ticket_id=ticket_id, body="Back on it"))
    app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, priority=Priority.LOW))
    project_all(trail_env)
    assert summaries(conn, dev2)[-1] == "Dev One changed priority to low"
    assert len(summaries(conn, rita)) == counts[rita.id]
    assert [u.name for u in ticket_watchers(conn, ticket_id)] == ["Ada Admin", "Dev Two"]


def test_watching_messages_and_read_marks_change_no_ticket_and_notify_nobody(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], project_id: uuid.UUID
) -> None:
    rita, dev = people.reporter, people.dev
    ticket_id = new_ticket(app, rita, project_id, "Quiet")
    app.tickets.assign(people.admin, AssignTicket(ticket_id=ticket_id, user_ids=(dev.id,)))
    project_all(trail_env)
    counts = {u.id: len(summaries(conn, u)) for u in (rita, dev)}
    app.watching.choose(dev, WatchTicket(ticket_id=ticket_id, watching=False))
    app.watching.choose(dev, WatchTicket(ticket_id=ticket_id, watching=True))
    app.conversations.post(rita, PostMessage(ticket_id=ticket_id, body="psst"))
    project_all(trail_env)
    assert {u.id: len(summaries(conn, u)) for u in (rita, dev)} == counts
    assert app.tickets.get(rita, ticket_id).version == 2


def test_a_watcher_who_may_not_see_the_ticket_or_is_deactivated_hears_nothing(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], project_id: uuid.UUID
) -> None:
    admin = people.admin
    demoted_id = register(app, "Dora Demoted")
    app.accounts.change_user(admin, ChangeUser(user_id=demoted_id, role=Role.DEVELOPER))
    leaving_id = register(app, "Lea Leaving")
    app.accounts.change_user(admin, ChangeUser(user_id=leaving_id, role=Role.DEVELOPER))
    demoted, leaving = app.accounts.actor(demoted_id), app.accounts.actor(leaving_id)
    ticket_id = new_ticket(app, people.dev, project_id, "Private")
    for user in (demoted, leaving):
        app.watching.choose(user, WatchTicket(ticket_id=ticket_id, watching=True))
    app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, priority=Priority.HIGH))
    app.accounts.change_user(admin, ChangeUser(user_id=demoted_id, role=Role.REPORTER))
    app.accounts.change_user(admin, ChangeUser(user_id=leaving_id,
                                               status=UserStatus.DEACTIVATED))
    app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, priority=Priority.LOW))
    project_all(trail_env)
    rows = conn.execute("SELECT user_id, summary FROM notifications WHERE ticket_id = %s "
                        "ORDER BY position", (ticket_id,)).fetchall()
    assert sorted((str(r["user_id"]), r["summary"]) for r in rows) == sorted([
        (str(demoted_id), "Dev One changed priority to high"),
        (str(leaving_id), "Dev One changed priority to high"),
    ])
    demoted_now = Viewer(id=demoted_id, role=Role.REPORTER)
    assert list_notifications(conn, demoted_now).items == [], "hidden once out of sight"
    assert unread_count(conn, demoted_now) == 0


def test_read_marks_one_and_all_up_to_a_position(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], project_id: uuid.UUID
) -> None:
    rita, dev = people.reporter, people.dev
    viewer = Viewer(id=rita.id, role=rita.role)
    ticket_id = new_ticket(app, rita, project_id, "Marks")
    app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, title="Marks 1"))
    app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, title="Marks 2"))
    middle = app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, title="Marks 3")).position
    app.tickets.edit(dev, EditTicket(ticket_id=ticket_id, title="Marks 4"))
    project_all(trail_env)
    app.read_marks.mark_all_read(rita, MarkAllNotificationsRead(up_to_position=0))
    newest = list_notifications(conn, viewer, limit=1).items[0]
    app.read_marks.mark_read(rita, MarkNotificationRead(notification_id=newest.id))
    project_all(trail_env)
    assert unread_count(conn, viewer) >= 3
    app.read_marks.mark_all_read(rita, MarkAllNotificationsRead(up_to_position=middle))
    project_all(trail_env)
    unread = list_notifications(conn, viewer, unread=True, limit=100).items
    assert unread == [], [n.summary for n in unread]
    assert list_notifications(conn, viewer, limit=1).items[0].read_at is not None


def test_the_list_pages_newest_first_without_repeats(
    conn: Conn, people: People
) -> None:
    viewer = Viewer(id=people.reporter.id, role=people.reporter.role)
    everything = list_notifications(conn, viewer, limit=100).items
    seen, cursor = [], None
    while True:
        page = list_notifications(conn, viewer, limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == everything
    assert [n.position for n in seen] == sorted((n.position for n in seen), reverse=True)


def test_a_rebuild_and_any_batch_size_give_the_live_rows(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str],
    project_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Text COPY escapes: a backslash in a title, tabs and newlines in a comment's JSON.
    ticket_id = new_ticket(app, people.admin, project_id, "C:\\Temp\\trail is \\N",
                           assignee_ids=[people.dev.id])
    app.tickets.comment(people.dev2, CommentOnTicket(
        ticket_id=ticket_id, body="line one\n\tline two \\ and \\N\r\nend"))
    project_all(trail_env)
    # A read mark between a batch's rows: the rows before it must be in the table (and a COPY
    # in progress ended) when it is applied, the rows after it still go in.
    dev = Viewer(id=people.dev.id, role=people.dev.role)
    marked = list_notifications(conn, dev, limit=1).items[0]
    app.read_marks.mark_read(people.dev, MarkNotificationRead(notification_id=marked.id))
    app.tickets.comment(people.dev2, CommentOnTicket(ticket_id=ticket_id, body="after the mark"))
    project_all(trail_env)
    assert list_notifications(conn, dev, limit=2).items[1].read_at is not None

    def rows() -> list[str]:
        found = conn.execute("SELECT * FROM notifications ORDER BY id").fetchall()
        watchers = conn.execute("SELECT * FROM ticket_watchers ORDER BY ticket_id, user_id")
        return [repr(sorted(r.items())) for r in [*found, *watchers.fetchall()]]

    live = rows()
    assert len(live) > 10
    assert NotificationsProjection in READ_MODELS
    rebuild(NotificationsProjection, trail_env, batch_size=3)
    assert rows() == live
    rebuild(NotificationsProjection, trail_env)
    catch_up(NotificationsProjection, trail_env, batch_size=1)
    assert rows() == live
    # Rebuild batches write through COPY; here every batch does, however few its rows.
    monkeypatch.setattr(notification_rows, "COPY_FROM_ROWS", 1)
    rebuild(NotificationsProjection, trail_env)
    assert rows() == live
    # Split across two processes, each applying its own tickets' events: the same rows.
    monkeypatch.setattr(loading, "SHARD_FROM_EVENTS", 0)
    assert loading.shards_for(NotificationsProjection, 1) == 2
    rebuild(NotificationsProjection, trail_env, batch_size=7)
    assert rows() == live


def test_a_team_member_hears_of_its_teams_tickets_only_while_a_member(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], project_id: uuid.UUID
) -> None:
    member_id = register(app, "Tess Teammate")
    member = app.accounts.actor(member_id)
    team_id = app.teams.create(people.admin, CreateTeam(name=f"Team {uuid.uuid4().hex[:6]}")).id
    app.teams.set_members(people.admin, SetTeamMembers(team_id=team_id, user_ids=(member_id,)))
    member = app.accounts.actor(member_id)
    ticket_id = new_ticket(app, people.dev, project_id, "Team work")
    app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, team_id=team_id))
    app.watching.choose(member, WatchTicket(ticket_id=ticket_id, watching=True))
    app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, priority=Priority.HIGH))
    app.teams.set_members(people.admin, SetTeamMembers(team_id=team_id, user_ids=()))
    app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, priority=Priority.LOW))
    project_all(trail_env)
    rows = conn.execute("SELECT summary FROM notifications WHERE user_id = %s ORDER BY position",
                        (member_id,)).fetchall()
    assert [r["summary"] for r in rows] == ["Dev One changed priority to high"]
    watchers = [w.name for w in ticket_watchers(conn, ticket_id)]
    assert watchers == ["Dev One"], "out of the team, out of sight"
