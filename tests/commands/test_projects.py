"""Projects through the Trail service, on PostgreSQL: admin only, unique names and keys, archive."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from commands.errors import Forbidden
from commands.messages import (
    ArchiveProject,
    CommentOnTicket,
    CreateProject,
    CreateTicket,
    EditTicket,
    ReviseProject,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.errors import InvalidFields, NameTaken, ProjectArchived
from domain.values import Status
from tests import log
from tests.commands.conftest import developer, project, reporter, ticket


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:6]}"


def test_only_an_admin_creates_revises_and_archives_projects(app: Commands, admin: Actor) -> None:
    dev, rita = developer(app, admin), reporter(app)
    project_id = project(app, admin)
    before = app.store.current_position()
    for actor in (dev, rita):
        with pytest.raises(Forbidden):
            app.projects.create(actor, CreateProject(name=unique("Not Mine")))
        with pytest.raises(Forbidden):
            app.projects.revise(actor, ReviseProject(project_id=project_id, name="Taken Over"))
        with pytest.raises(Forbidden):
            app.projects.archive(actor, ArchiveProject(project_id=project_id))
    assert app.store.current_position() == before
    assert not app.projects.get(project_id).archived


def test_create_records_trimmed_fields_and_a_derived_key(app: Commands, admin: Actor) -> None:
    outcome = app.projects.create(
        admin, CreateProject(name="  Customer Support Desk  ", description=" help ")
    )
    created = app.projects.get(outcome.id)
    assert (created.name, created.key, created.description, created.archived) == (
        "Customer Support Desk", "CSD", "help", False,
    )
    assert (outcome.version, outcome.recorded) == (1, 1)
    assert outcome.position == app.store.current_position()
    # The same initials again: the derived key moves on instead of colliding.
    again = app.projects.get(project(app, admin, "Corporate Sales Division"))
    assert again.key == "CSD2"
    third = app.projects.get(project(app, admin, "Central Server Deployment"))
    assert third.key == "CSD3"


def test_an_explicit_key_is_unique(app: Commands, admin: Actor) -> None:
    project(app, admin, unique("Keyed"), key="KEYED")
    with pytest.raises(NameTaken, match="key"):
        project(app, admin, unique("Other"), key="KEYED")
    with pytest.raises(InvalidFields) as refused:
        project(app, admin, unique("Lower"), key="lower")
    assert [e.field for e in refused.value.errors] == ["key"]


def test_a_project_name_is_unique_ignoring_case(app: Commands, admin: Actor) -> None:
    name = unique("Payments")
    project(app, admin, name)
    before = app.store.current_position()
    for other in (name.upper(), name.lower(), f"  {name}  "):
        with pytest.raises(NameTaken, match="name"):
            project(app, admin, other)
    assert app.store.current_position() == before


def test_rename_moves_the_name_claim(app: Commands, admin: Actor) -> None:
    old, new = unique("Old Name"), unique("New Name")
    project_id = project(app, admin, old)
    outcome = app.projects.revise(admin, ReviseProject(project_id=project_id, name=new,
                                                      description="moved"))
    assert (outcome.recorded, outcome.version) == (2, 3)
    assert app.projects.get(project_id).name == new
    with pytest.raises(NameTaken):
        project(app, admin, new.swapcase())
    # The old name is free again, for anyone.
    reused = project(app, admin, old.upper())
    assert app.projects.get(reused).name == old.upper()
    # A rename onto a taken name is refused and records nothing.
    with pytest.raises(NameTaken):
        app.projects.revise(admin, ReviseProject(project_id=project_id, name=old.lower()))
    assert app.projects.get(project_id).name == new
    assert app.projects.get(project_id).version == 3
    # Changing only the case of one's own name is allowed.
    app.projects.revise(admin, ReviseProject(project_id=project_id, name=new.upper(),
                                            description="moved"))
    assert app.projects.get(project_id).name == new.upper()


def test_concurrent_creations_of_one_name_make_one_project(app: Commands, admin: Actor) -> None:
    name = unique("Contested")
    barrier = threading.Barrier(6)

    def go(n: int) -> uuid.UUID | Exception:
        barrier.wait()
        try:
            return project(app, admin, name if n % 2 else name.upper())
        except NameTaken as error:
            return error

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(go, range(6)))
    assert sum(isinstance(r, uuid.UUID) for r in results) == 1, results
    assert sum(isinstance(r, NameTaken) for r in results) == 5


def test_an_archived_project_takes_no_tickets_but_keeps_them_readable(
    app: Commands, admin: Actor
) -> None:
    project_id = project(app, admin)
    ticket_id = ticket(app, admin, project_id)
    outcome = app.projects.archive(admin, ArchiveProject(project_id=project_id))
    assert (outcome.recorded, app.projects.get(project_id).archived) == (1, True)
    again = app.projects.archive(admin, ArchiveProject(project_id=project_id))
    assert again.recorded == 0

    before = app.store.current_position()
    with pytest.raises(ProjectArchived):
        app.tickets.create(admin, CreateTicket(project_id=project_id, title="Too late"))
    with pytest.raises(ProjectArchived):
        app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, status=Status.CLOSED))
    with pytest.raises(ProjectArchived):
        app.tickets.comment(admin, CommentOnTicket(ticket_id=ticket_id, body="hello?"))
    with pytest.raises(ProjectArchived):
        app.projects.revise(admin, ReviseProject(project_id=project_id, name="Revived"))
    assert app.store.current_position() == before
    assert app.tickets.get(admin, ticket_id).status is Status.OPEN
    assert len(log.history(app, ticket_id)) == 1


def test_a_ticket_for_an_unknown_project_names_the_field(app: Commands, admin: Actor) -> None:
    with pytest.raises(InvalidFields) as refused:
        app.tickets.create(admin, CreateTicket(project_id=uuid.uuid4(), title="Lost"))
    assert [e.field for e in refused.value.errors] == ["project_id"]


def test_concurrent_projects_with_one_derived_key_all_get_distinct_keys(
    app: Commands, admin: Actor
) -> None:
    """No key was sent, so none can be "taken": each creation must get a free derived key.
    Regression: a creator committing between `_free_key` and `_claim` used to make the other
    fail with NameTaken("key is already taken") instead of retrying with QZN2, QZN3… (fixed in
    5e9057a)."""
    def go(name: str, barrier: threading.Barrier) -> uuid.UUID | Exception:
        barrier.wait()
        try:
            return project(app, admin, name)
        except NameTaken as error:
            return error

    results: list[uuid.UUID | Exception] = []
    for round_ in range(4):
        barrier = threading.Barrier(8)
        # "Quiet Zebra Nest 07": words led by a digit do not count, every name derives QZN.
        names = [f"Quiet Zebra Nest {round_}{n}" for n in range(8)]
        with ThreadPoolExecutor(8) as pool:
            results += pool.map(go, names, [barrier] * 8)
    refused = [r for r in results if isinstance(r, Exception)]
    assert refused == [], f"{len(refused)} of {len(results)} refused: {refused[0]}"
    keys = [app.projects.get(r).key for r in results if isinstance(r, uuid.UUID)]
    assert len(set(keys)) == len(keys) == 32
    assert all(key.startswith("QZN") for key in keys), keys
