"""Tickets through the Trail service, on PostgreSQL: numbering, concurrency, visibility, roles."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TypeVar

import pytest
from eventsourcing.persistence import IntegrityError

from commands.base import Outcome
from commands.errors import Forbidden, NotFound, Unauthenticated, VersionMismatch
from commands.messages import (
    AssignTicket,
    ChangeUser,
    CommentOnTicket,
    CreateTicket,
    EditComment,
    EditTicket,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.errors import InvalidFields, NotCommentAuthor, TransitionNotAllowed
from domain.ticket import Ticket
from domain.values import Priority, Role, Status, TicketType, UserStatus
from tests import log
from tests.commands.conftest import CountingTrail, developer, project, reporter, ticket

T = TypeVar("T")


def race(n: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..n-1) on n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def go(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


@pytest.fixture(scope="module")
def dev(app: Commands, admin: Actor) -> Actor:
    return developer(app, admin, "Dana Developer")


@pytest.fixture(scope="module")
def project_id(app: Commands, admin: Actor) -> uuid.UUID:
    return project(app, admin)


# --- creating ---------------------------------------------------------------------------------


def test_a_new_ticket_is_open_at_version_one_reported_by_its_creator(
    app: Commands, admin: Actor, dev: Actor
) -> None:
    pid = project(app, admin)
    outcome = app.tickets.create(dev, CreateTicket(
        project_id=pid, title="  Fix the database ", description="slow", priority=Priority.HIGH,
        type=TicketType.TASK, tags=("db", "perf"), due_date=date(2027, 1, 15),
        assignee_ids=(dev.id, admin.id),
    ))
    assert (outcome.version, outcome.recorded) == (1, 1)
    assert outcome.position == app.store.current_position()
    created = app.tickets.get(dev, outcome.id)
    assert (created.number, created.project_id, created.title, created.description) == (
        1, pid, "Fix the database", "slow",
    )
    assert (created.status, created.priority, created.type) == (
        Status.OPEN, Priority.HIGH, TicketType.TASK,
    )
    assert (created.tags, created.due_date) == (("db", "perf"), date(2027, 1, 15))
    assert (created.reporter_id, created.assignee_ids) == (dev.id, (dev.id, admin.id))
    assert (created.version, created.updated_at) == (1, None)


def test_numbers_are_1_2_3_per_project_and_a_refused_ticket_spends_none(
    app: Commands, admin: Actor
) -> None:
    first, second = project(app, admin), project(app, admin)
    numbers = [app.tickets.get(admin, ticket(app, admin, first)).number for _ in range(3)]
    with pytest.raises(InvalidFields):
        ticket(app, admin, first, title=" ")
    with pytest.raises(InvalidFields):
        ticket(app, admin, first, assignee_ids=(uuid.uuid4(),))
    numbers.append(app.tickets.get(admin, ticket(app, admin, first)).number)
    assert numbers == [1, 2, 3, 4]
    assert app.tickets.get(admin, ticket(app, admin, second)).number == 1


def test_sixteen_threads_creating_in_one_project_get_gapless_distinct_numbers(
    app: Commands, racing: CountingTrail, admin: Actor, dev: Actor
) -> None:
    pid = project(app, admin)
    conflicts = racing.conflicts
    outcomes = race(16, lambda i: (app, racing)[i % 2].tickets.create(
        dev if i % 2 else admin, CreateTicket(project_id=pid, title=f"Ticket {i}")
    ))
    numbers = sorted(app.tickets.get(admin, o.id).number for o in outcomes)
    assert numbers == list(range(1, 17))
    assert len({o.position for o in outcomes}) == 16
    assert racing.conflicts == conflicts, "numbering must not make creators collide and retry"


# --- concurrent changes to one ticket ---------------------------------------------------------


def test_sixteen_threads_commenting_on_one_ticket_lose_no_comment(
    app: Commands, racing: CountingTrail, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id)
    app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=(dev.id,)))

    def comment(i: int) -> tuple[int, Outcome]:
        actor = (admin, dev)[i % 2]
        return i, racing.tickets.comment(actor, CommentOnTicket(ticket_id=ticket_id,
                                                        body=f"comment {i}"))

    conflicts = racing.conflicts
    accepted = race(16, comment)
    assert racing.conflicts > conflicts, "the threads were meant to collide and retry"
    final = app.tickets.get(admin, ticket_id)
    assert final.version == 2 + len(accepted)
    assert {c.id: c.body for c in final.comments.values()} == {
        o.id: f"comment {i}" for i, o in accepted
    }
    versions = sorted(o.version for _, o in accepted)
    assert versions == list(range(3, 3 + 16)), "each accepted comment is its own version"


def test_sixteen_threads_changing_one_ticket_with_if_match_lose_no_change(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    """Tags are replaced as a whole: each client reads, adds its own tag and writes with
    If-Match, reading again when another client got there first. No tag may be lost."""
    ticket_id = ticket(app, admin, project_id)
    mismatches = 0
    lock = threading.Lock()

    def add_tag(i: int) -> Outcome:
        nonlocal mismatches
        actor = (admin, dev)[i % 2]
        while True:
            current = app.tickets.get(actor, ticket_id)
            try:
                return app.tickets.edit(actor, EditTicket(
                    ticket_id=ticket_id, tags=(*current.tags, f"t{i}"),
                    expected_version=current.version,
                ))
            except VersionMismatch as error:
                assert error.expected == current.version < error.actual
                with lock:
                    mismatches += 1

    accepted = race(16, add_tag)
    final = app.tickets.get(admin, ticket_id)
    assert sorted(final.tags) == sorted(f"t{i}" for i in range(16))
    assert final.version == 1 + len(accepted) == 17
    assert sorted(o.version for o in accepted) == list(range(2, 18))
    assert mismatches > 0, "the clients were meant to collide"


def test_sixteen_threads_making_mixed_changes_all_land(
    app: Commands, racing: CountingTrail, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    """Comments, assignment, title, priority and due date at once: the service reloads and
    decides again on conflict, so every command that returned is in the final ticket."""
    ticket_id = ticket(app, admin, project_id)

    def change(i: int) -> tuple[int, Outcome]:
        actor = (admin, dev)[i % 2]
        app_ = (app, racing)[i % 2]
        if i == 0:
            return i, app_.tickets.edit(actor, EditTicket(ticket_id=ticket_id, title="Renamed"))
        if i == 1:
            return i, app_.tickets.edit(actor, EditTicket(ticket_id=ticket_id,
                                                         priority=Priority.URGENT))
        if i == 2:
            return i, app_.tickets.assign(actor, AssignTicket(ticket_id=ticket_id,
                                                            user_ids=(dev.id,)))
        if i == 3:
            return i, app_.tickets.edit(actor, EditTicket(ticket_id=ticket_id,
                                                        due_date=date(2027, 3, 1)))
        return i, app_.tickets.comment(actor, CommentOnTicket(ticket_id=ticket_id, body=f"c{i}"))

    accepted = dict(race(16, change))
    final = app.tickets.get(admin, ticket_id)
    assert final.version == 1 + len(accepted) == 17
    assert (final.title, final.priority, final.assignee_ids, final.due_date) == (
        "Renamed", Priority.URGENT, (dev.id,), date(2027, 3, 1),
    )
    assert sorted(c.body for c in final.comments.values()) == sorted(
        f"c{i}" for i in range(4, 16)
    )
    history = log.history(app, ticket_id)
    assert [h.version for h in history] == list(range(1, 18))
    assert {o.position for o in accepted.values()} <= {h.position for h in history}


# --- expected version -------------------------------------------------------------------------


def test_a_stale_expected_version_is_refused_and_records_nothing(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id)
    app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, title="Second"))
    for command in (
        EditTicket(ticket_id=ticket_id, title="Third", expected_version=1),
        CommentOnTicket(ticket_id=ticket_id, body="late", expected_version=1),
        AssignTicket(ticket_id=ticket_id, user_ids=(), expected_version=3),
    ):
        with pytest.raises(VersionMismatch) as refused:
            log.handle(app, admin, command)
        assert refused.value.actual == 2
    assert app.tickets.get(admin, ticket_id).title == "Second"
    outcome = app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, title="Third",
                                                expected_version=2))
    assert outcome.version == 3


# --- who may see and do what ------------------------------------------------------------------


def test_a_reporter_sees_only_tickets_it_reported_or_is_assigned_to(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    rita, rob = reporter(app, "Rita Reporter"), reporter(app, "Rob Reporter")
    own = ticket(app, rita, project_id, title="Mine")
    other = ticket(app, admin, project_id, title="Not hers")
    assert app.tickets.get(rita, own).reporter_id == rita.id
    assert app.tickets.get(dev, own).reporter_id == rita.id
    before = app.store.current_position()
    for command in (
        EditTicket(ticket_id=other, title="Hijacked"),
        EditTicket(ticket_id=other, status=Status.CLOSED),
        CommentOnTicket(ticket_id=other, body="hello"),
        AssignTicket(ticket_id=other, user_ids=()),
    ):
        with pytest.raises(NotFound):
            log.handle(app, rita, command)
    for hidden in (other, own):
        with pytest.raises(NotFound):
            app.tickets.get(rob if hidden == own else rita, hidden)
    assert app.store.current_position() == before

    # Assigned while a developer, then made a reporter: the assignment keeps it visible.
    dora = developer(app, admin, "Dora Demoted")
    app.tickets.assign(admin, AssignTicket(ticket_id=other, user_ids=(dora.id,)))
    app.accounts.change_user(admin, ChangeUser(user_id=dora.id, role=Role.REPORTER))
    dora = app.accounts.actor(dora.id)
    assert app.tickets.get(dora, other).title == "Not hers"
    app.tickets.comment(dora, CommentOnTicket(ticket_id=other, body="on it"))
    app.tickets.assign(admin, AssignTicket(ticket_id=other, user_ids=()))
    with pytest.raises(NotFound):
        app.tickets.get(dora, other)


def test_a_reporter_may_not_change_status_priority_or_assignees_on_its_ticket(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    rita = reporter(app)
    own = ticket(app, rita, project_id, title="Mine")
    for command in (
        EditTicket(ticket_id=own, status=Status.CLOSED),
        EditTicket(ticket_id=own, priority=Priority.URGENT),
        EditTicket(ticket_id=own, title="Also this", priority=Priority.URGENT),
        AssignTicket(ticket_id=own, user_ids=(dev.id,)),
    ):
        with pytest.raises(Forbidden):
            log.handle(app, rita, command)
    with pytest.raises(Forbidden):
        app.tickets.create(rita, CreateTicket(project_id=project_id, title="x",
                                             assignee_ids=(dev.id,)))
    assert app.tickets.get(rita, own).version == 1
    # What a reporter may do on its ticket: edit the text, tags and type, and comment.
    app.tickets.edit(rita, EditTicket(ticket_id=own, title="Better title", tags=("ui",),
                                     type=TicketType.FEATURE))
    app.tickets.comment(rita, CommentOnTicket(ticket_id=own, body="more detail"))
    final = app.tickets.get(rita, own)
    assert (final.title, final.tags, final.type, final.version) == (
        "Better title", ("ui",), TicketType.FEATURE, 5,
    )


def test_assignees_must_be_active_developers_or_admins(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id)
    rita = reporter(app)
    gone = developer(app, admin, "Gone Developer")
    app.accounts.change_user(admin, ChangeUser(user_id=gone.id, status=UserStatus.DEACTIVATED))
    before = app.store.current_position()
    for bad in (rita.id, gone.id, uuid.uuid4(), project_id):
        with pytest.raises(InvalidFields) as refused:
            app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=(dev.id, bad)))
        assert [e.field for e in refused.value.errors] == ["user_ids"]
        assert str(bad) in refused.value.errors[0].message
        with pytest.raises(InvalidFields) as refused:
            ticket(app, admin, project_id, assignee_ids=(bad,))
        assert [e.field for e in refused.value.errors] == ["assignee_ids"]
    assert app.store.current_position() == before
    outcome = app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id,
                                                    user_ids=(dev.id, admin.id)))
    assert app.tickets.get(admin, ticket_id).assignee_ids == (dev.id, admin.id)
    assert outcome.recorded == 1
    again = app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id,
                                                  user_ids=(dev.id, admin.id)))
    assert (again.recorded, again.version) == (1, outcome.version + 1)


# --- what the domain refuses, through the service ---------------------------------------------


def test_refused_edits_record_nothing(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id, title="Same")
    before = app.store.current_position()
    with pytest.raises(TransitionNotAllowed):
        app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, title="New", status=Status.OPEN))
    with pytest.raises(TransitionNotAllowed):
        app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, status=Status.RESOLVED))
    with pytest.raises(InvalidFields) as refused:
        app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, title="", tags=("Bad Tag",),
                                          status=Status.IN_PROGRESS))
    assert sorted(e.field for e in refused.value.errors) == ["tags", "title"]
    assert app.store.current_position() == before
    unchanged = app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, title=" Same "))
    assert (unchanged.recorded, unchanged.version) == (0, 1)
    assert app.tickets.get(admin, ticket_id).updated_at is None


def test_edit_records_one_event_per_changed_field_and_clears_with_none(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id, description="words", due_date=date(2027, 1, 1))
    outcome = app.tickets.edit(admin, EditTicket(
        ticket_id=ticket_id, status=Status.IN_PROGRESS, description=None, due_date=None,
    ))
    assert (outcome.recorded, outcome.version) == (3, 4)
    final = app.tickets.get(admin, ticket_id)
    assert (final.status, final.description, final.due_date) == (Status.IN_PROGRESS, None, None)
    assert final.updated_at is not None
    history = log.history(app, ticket_id)
    assert [h.type for h in history[1:]] == [
        "Ticket.DescriptionChanged", "Ticket.StatusChanged", "Ticket.DueDateChanged",
    ]
    assert outcome.position == history[-1].position


def test_only_the_author_edits_a_comment_even_against_an_admin(
    app: Commands, admin: Actor, dev: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id)
    comment = app.tickets.comment(dev, CommentOnTicket(ticket_id=ticket_id, body="first"))
    with pytest.raises(NotCommentAuthor):
        app.tickets.edit_comment(admin, EditComment(ticket_id=ticket_id, comment_id=comment.id,
                                            body="rewritten"))
    with pytest.raises(NotFound):
        app.tickets.edit_comment(admin, EditComment(ticket_id=uuid.uuid4(), comment_id=comment.id,
                                            body="x"))
    edited = app.tickets.edit_comment(dev, EditComment(ticket_id=ticket_id, comment_id=comment.id,
                                               body="second"))
    assert edited.version == 3
    stored = app.tickets.get(admin, ticket_id).comments[comment.id]
    assert (stored.body, stored.author_id, stored.edited_at is not None) == (
        "second", dev.id, True,
    )


def test_unknown_or_non_ticket_ids_are_not_found(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, admin, project_id)
    for missing in (uuid.uuid4(), project_id, admin.id):
        with pytest.raises(NotFound):
            app.tickets.get(admin, missing)
        with pytest.raises(NotFound):
            app.tickets.edit(admin, EditTicket(ticket_id=missing, title="x"))
    for version in (0, -1, 2):
        with pytest.raises(NotFound):
            app.tickets.get(admin, ticket_id, version=version)
    assert app.tickets.get(admin, ticket_id, version=1).version == 1


def test_a_deactivated_user_can_no_longer_act_on_tickets(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    dev = developer(app, admin, "Soon Gone")
    ticket_id = ticket(app, dev, project_id)
    app.accounts.change_user(admin, ChangeUser(user_id=dev.id, status=UserStatus.DEACTIVATED))
    with pytest.raises(Unauthenticated):
        app.accounts.actor(dev.id)
    assert app.tickets.get(admin, ticket_id).reporter_id == dev.id


def test_who_sees_an_old_version_is_decided_by_the_ticket_now(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    """Regression: visibility used to be checked on the ticket as of the requested version, so
    an assignee removed from a ticket still read it with ?version= (fixed in 5e9057a)."""
    ticket_id = ticket(app, admin, project_id, title="Internal")
    former = developer(app, admin, "Former Assignee")
    app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=(former.id,)))
    app.accounts.change_user(admin, ChangeUser(user_id=former.id, role=Role.REPORTER))
    app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=()))
    app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, title="Internal, now secret"))
    former = app.accounts.actor(former.id)
    with pytest.raises(NotFound):
        app.tickets.get(former, ticket_id)
    for version in (1, 2, 3):
        with pytest.raises(NotFound):
            app.tickets.get(former, ticket_id, version=version)
    # And the other way round: a reporter assigned now reads versions from before that.
    later = developer(app, admin, "Later Assignee")
    app.tickets.assign(admin, AssignTicket(ticket_id=ticket_id, user_ids=(later.id,)))
    app.accounts.change_user(admin, ChangeUser(user_id=later.id, role=Role.REPORTER))
    later = app.accounts.actor(later.id)
    assert app.tickets.get(later, ticket_id, version=1).title == "Internal"
    assert app.tickets.get(later, ticket_id).title == "Internal, now secret"


# --- a write whose outcome was lost -----------------------------------------------------------


def test_a_save_that_meets_its_own_committed_write_is_that_write_not_a_conflict(
    app: Commands, dev: Actor, project_id: uuid.UUID
) -> None:
    """The event store retries a write whose connection broke; when the break came after the
    commit, the retry meets the write it is making again. That is the command's own outcome:
    deciding again would post the comment twice."""
    service = app.tickets
    ticket_id = ticket(app, dev, project_id)
    loaded = service._load(Ticket, ticket_id, "ticket")
    loaded.comment(service._stamp(dev.id), uuid.uuid4(), "Only once, please")
    retried = copy.deepcopy(loaded)
    saved = service._save(loaded)

    again = service._save(retried)

    assert again.position == saved.position and again.recorded == saved.recorded == 1
    history = app.tickets.get(dev, ticket_id)
    assert [c.body for c in history.comments.values()] == ["Only once, please"]
    # Another command's write at the same version is a conflict, as before.
    other = service._load(Ticket, ticket_id, "ticket")
    rival = copy.deepcopy(other)
    other.comment(service._stamp(dev.id), uuid.uuid4(), "First")
    rival.comment(service._stamp(dev.id), uuid.uuid4(), "Second")
    service._save(other)
    with pytest.raises(IntegrityError):
        service._save(rival)
