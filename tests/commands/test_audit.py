"""What auditors read from the event store: history with field-level changes, the ticket at a
version or a moment, and the global log in position order. The clock is injected, so every event's
time is known."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands.base import Outcome, Trail
from commands.messages import (
    AssignTicket,
    ChangeUser,
    CommentOnTicket,
    CreateProject,
    CreateTicket,
    EditComment,
    EditTicket,
)
from commands.permissions import Actor
from commands.services import Commands, build_commands
from domain.history import Change
from domain.values import Priority, Role, Status
from tests import log
from tests.commands.conftest import Clock, register
from tests.domain.given import state

MINUTE = timedelta(minutes=1)


class Story:
    """One ticket's life, command by command, with what the ticket was after each command."""

    def __init__(self, app: Commands, clock: Clock) -> None:
        self.app, self.clock = app, clock
        self.admin = app.accounts.actor(register(app, "Ada Admin"))
        assert self.admin.role is Role.ADMIN
        dev_id = register(app, "Dana Developer")
        app.accounts.change_user(self.admin, ChangeUser(user_id=dev_id, role=Role.DEVELOPER))
        self.dev = app.accounts.actor(dev_id)
        self.project_id = app.projects.create(self.admin, CreateProject(name="Audited")).id
        self.start = clock.advance(hours=1)
        self.times: list[datetime] = []
        self.outcomes: list[Outcome] = []
        self.snapshots: dict[int, dict[str, Any] | None] = {}

        self.ticket_id = self.run(self.admin, CreateTicket(project_id=self.project_id,
                                                           title="Old title")).id
        self.run(self.dev, EditTicket(ticket_id=self.ticket_id, title="New title",
                                      status=Status.IN_PROGRESS))
        self.run(self.admin, AssignTicket(ticket_id=self.ticket_id, user_ids=(self.dev.id,)))
        self.comment_id = self.run(self.dev, CommentOnTicket(ticket_id=self.ticket_id,
                                                             body="looking")).id
        self.run(self.dev, EditComment(ticket_id=self.ticket_id, comment_id=self.comment_id,
                                       body="found it"))
        self.run(self.dev, EditTicket(ticket_id=self.ticket_id, tags=("db",),
                                      priority=Priority.HIGH, due_date=date(2027, 1, 2)))
        self.run(self.dev, EditTicket(ticket_id=self.ticket_id, status=Status.RESOLVED))

    def run(self, actor: Actor, command: Any) -> Outcome:
        at = self.clock.advance(minutes=1)
        outcome = log.handle(self.app, actor, command)
        ticket = self.app.tickets.get(self.admin, self.ticket_id if self.times else outcome.id)
        self.times.append(at)
        self.outcomes.append(outcome)
        self.snapshots[ticket.version] = state(ticket)
        return outcome


@pytest.fixture(scope="module")
def story(trail_env: dict[str, str]) -> Iterator[Story]:
    clock = Clock()
    app = build_commands(Trail(trail_env), clock=clock)
    yield Story(app, clock)
    app.close()


def test_history_lists_every_event_with_field_level_changes(story: Story) -> None:
    history = log.history(story.app, story.ticket_id)
    admin, dev = story.admin.id, story.dev.id
    t = story.times
    assert [(h.version, h.type, h.at, h.actor_id) for h in history] == [
        (1, "Ticket.Created", t[0], admin),
        (2, "Ticket.TitleChanged", t[1], dev),
        (3, "Ticket.StatusChanged", t[1], dev),
        (4, "Ticket.AssigneesChanged", t[2], admin),
        (5, "Ticket.Commented", t[3], dev),
        (6, "Ticket.CommentEdited", t[4], dev),
        (7, "Ticket.PriorityChanged", t[5], dev),
        (8, "Ticket.TagsChanged", t[5], dev),
        (9, "Ticket.DueDateChanged", t[5], dev),
        (10, "Ticket.StatusChanged", t[6], dev),
    ]
    changes = [h.changes for h in history]
    assert changes[0]["title"] == Change(None, "Old title")
    assert changes[0]["status"] == Change(None, "open")
    assert changes[0]["number"] == Change(None, 1)
    assert changes[1:] == [
        {"title": Change("Old title", "New title")},
        {"status": Change("open", "in_progress")},
        {"assignee_ids": Change([], [str(dev)])},
        {"comment": Change(None, "looking")},
        {"comment": Change("looking", "found it")},
        {"priority": Change("medium", "high")},
        {"tags": Change([], ["db"])},
        {"due_date": Change(None, "2027-01-02")},
        {"status": Change("in_progress", "resolved")},
    ]
    positions = [h.position for h in history]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    # A command's position is the position of the last event it recorded.
    last_of_command = [1, 3, 4, 5, 6, 9, 10]
    assert [o.position for o in story.outcomes] == [positions[v - 1] for v in last_of_command]


def test_history_pages_by_version(story: Story) -> None:
    everything = log.history(story.app, story.ticket_id)
    page = log.history(story.app, story.ticket_id, after_version=3, limit=4)
    assert page == everything[3:7]
    assert log.history(story.app, story.ticket_id, after_version=10) == []
    assert log.history(story.app, story.project_id) == []
    assert log.history(story.app, uuid4()) == []


def test_the_ticket_at_each_version_is_exactly_what_it_was(story: Story) -> None:
    app, admin = story.app, story.admin
    for version, snapshot in story.snapshots.items():
        assert state(app.tickets.get(admin, story.ticket_id, version=version)) == snapshot
    # Inside one command: version 2 has the new title but not yet the new status.
    halfway = app.tickets.get(admin, story.ticket_id, version=2)
    assert (halfway.title, halfway.status, halfway.version) == (
        "New title", Status.OPEN, 2,
    )
    assert halfway.updated_at == story.times[1]
    assert app.tickets.get(admin, story.ticket_id, version=1).updated_at is None


def test_the_ticket_as_of_a_moment_is_exactly_what_it_was(story: Story) -> None:
    app = story.app
    versions = sorted(story.snapshots)
    for at, version in zip(story.times, versions, strict=True):
        expected = story.snapshots[version]
        assert state(log.as_of(app, story.ticket_id, at)) == expected
        assert state(log.as_of(app, story.ticket_id, at + MINUTE / 2)) == expected
        before = log.as_of(app, story.ticket_id, at - timedelta(microseconds=1))
        assert before is None or before.version < version
    assert log.as_of(app, story.ticket_id, story.times[0] - timedelta(seconds=1)) is None
    latest = log.as_of(app, story.ticket_id, story.times[-1] + timedelta(days=365))
    assert state(latest) == state(story.app.tickets.get(story.admin, story.ticket_id))
    assert log.as_of(app, uuid4(), story.times[-1]) is None
    assert log.as_of(app, story.project_id, story.times[-1]) is None


def test_the_global_log_is_in_position_order_and_filters(story: Story) -> None:
    app = story.app
    everything = log.log(app, limit=1000)
    positions = [e.position for e in everything]
    assert all(a < b for a, b in pairwise(positions))
    assert len(everything) == story.app.store.recorder.max_notification_id()  # no conflicts here
    assert positions[-1] == story.app.store.current_position()
    types = {e.type for e in everything}
    assert {"User.Registered", "User.RoleChanged", "Project.Created", "Claim.Taken",
            "Ticket.Created"} <= types

    # Paging with `after` gives the same log as one read.
    paged, after = [], 0
    while page := log.log(app, after=after, limit=4):
        paged += page
        after = page[-1].position
    assert paged == everything

    mine = log.log(app, ticket_id=story.ticket_id, limit=1000)
    assert [e.position for e in mine] == [h.position for h in log.history(app, story.ticket_id)]
    assert {e.ticket_id for e in mine} == {story.ticket_id}
    assert all(e.ticket_id is None for e in everything if not e.type.startswith("Ticket."))

    status = log.log(app, types=["Ticket.StatusChanged"], limit=1000)
    assert [e.data["status"] for e in status] == ["in_progress", "resolved"]
    assert [e.actor_id for e in status] == [story.dev.id, story.dev.id]
    assert [e.at for e in status] == [story.times[1], story.times[6]]
    both = log.log(app, types=["Ticket.Created", "Project.Created"], limit=1000)
    assert [e.type for e in both] == ["Project.Created", "Ticket.Created"]
    assert log.log(app, after=positions[-1]) == []
    assert log.log(app, types=["Ticket.Nothing"]) == []


def test_an_event_in_the_log_carries_its_command_and_actor(story: Story) -> None:
    entries = log.log(story.app, ticket_id=story.ticket_id, limit=1000)
    by_version = dict(enumerate(entries, start=1))
    title, status = by_version[2], by_version[3]
    assert title.data["title"] == "New title" and title.data["old_title"] == "Old title"
    # One command, one command_id shared by all its events.
    assert title.data["command_id"] == status.data["command_id"]
    assert by_version[4].data["command_id"] != title.data["command_id"]
    assert UUID(title.data["actor_id"]) == story.dev.id
