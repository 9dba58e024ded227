"""The runner: live reaction, read-your-writes, one runner per projection, loud failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import DictRow

from commands.messages import CreateTicket
from commands.services import Commands
from domain.visibility import Viewer
from projections.catalog import READ_MODELS
from projections.errors import ProjectorFailed
from projections.positions import ProjectionStatus, projection_status, wait_for_position
from projections.projector import run_projections
from projections.runner import Runner, catch_up
from projections.tickets import get_ticket
from tests.projections.conftest import People, new_project, new_ticket
from tests.projections.ledger import Fragile, Ledger

Conn = psycopg.Connection[DictRow]


@pytest.fixture
def projector(trail_env: dict[str, str]) -> Iterator[threading.Event]:
    """`trail projector` in a thread: every read model, live."""
    stopping = threading.Event()
    thread = threading.Thread(target=run_projections, args=(READ_MODELS, trail_env, stopping))
    thread.start()
    yield stopping
    stopping.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def all_positions(conn: Conn) -> list[int]:
    rows = conn.execute("SELECT notification_id FROM trail_events ORDER BY 1").fetchall()
    return [row["notification_id"] for row in rows]


def test_a_write_is_readable_once_its_position_is_reached(
    app: Commands, people: People, conn: Conn, scratch_database_url: str,
    projector: threading.Event,
) -> None:
    # How soon is measured by bench/lag.py; here, that waiting for the position is enough.
    project_id = new_project(app, people.admin)
    assert wait_for_position(scratch_database_url, ["tickets"], app.store.current_position())
    viewer = Viewer(id=people.admin.id, role=people.admin.role)
    for i in range(20):
        outcome = app.tickets.create(people.dev, _create(project_id, f"t{i}"))
        # The tickets query names people from the users model: it must be there too.
        assert wait_for_position(scratch_database_url, ["tickets", "comments", "users"],
                                 outcome.position)
        seen = get_ticket(conn, outcome.id, viewer)
        assert seen is not None and seen.title == f"t{i}"


def test_waiting_for_a_position_not_yet_recorded_times_out(
    app: Commands, scratch_database_url: str, projector: threading.Event
) -> None:
    started = time.perf_counter()
    assert not wait_for_position(
        scratch_database_url, ["tickets"], app.store.current_position() + 1000, timeout=0.3
    )
    # It waited its timeout and gave up instead of hanging (the bound allows a loaded machine).
    assert 0.3 <= time.perf_counter() - started < 5.0


def test_status_shows_position_and_lag(
    app: Commands, people: People, trail_env: dict[str, str], scratch_database_url: str
) -> None:
    for model in READ_MODELS:
        catch_up(model, trail_env)
    before = app.store.current_position()
    new_ticket(app, people.dev, new_project(app, people.admin))
    status = projection_status(scratch_database_url)
    head = app.store.current_position()
    assert set(status) >= {m.name for m in READ_MODELS}
    assert status["tickets"] == ProjectionStatus(position=before, lag=head - before)
    assert status["users"].lag == head - before, "a filtered projection's lag counts the log"


def test_a_projector_error_stops_at_the_failing_event_and_never_skips_it(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    project_id = new_project(app, people.admin)
    new_ticket(app, people.dev, project_id, "fine")
    boom = app.tickets.create(people.dev, _create(project_id, "boom"))
    new_ticket(app, people.dev, project_id, "after")

    for _ in range(2):
        with pytest.raises(ProjectorFailed) as failed:
            catch_up(Fragile, trail_env)
        assert failed.value.position == boom.position
    assert f"failed at position {boom.position}" in caplog.text
    rows = conn.execute("SELECT max(position) AS last FROM fragile").fetchone()
    assert rows is not None and rows["last"] < boom.position
    version = conn.execute("SELECT position FROM projection_versions WHERE name = 'fragile'")
    assert version.fetchone() == {"position": boom.position - 1}

    with pytest.raises(ProjectorFailed):
        run_projections([Fragile], trail_env, threading.Event())


def test_one_runner_per_projection_and_a_stand_by_takes_over(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str], scratch_database_url: str
) -> None:
    first, second = threading.Event(), threading.Event()
    runners = [
        threading.Thread(target=Runner(Ledger, trail_env, batch_size=3).run, args=(stop,))
        for stop in (first, second)
    ]
    for runner in runners:
        runner.start()
    project_id = new_project(app, people.admin)
    for i in range(10):
        new_ticket(app, people.dev, project_id, f"t{i}")
    assert wait_for_position(scratch_database_url, ["ledger"], app.store.current_position())
    first.set()
    for i in range(10):
        new_ticket(app, people.dev, project_id, f"u{i}")
    assert wait_for_position(scratch_database_url, ["ledger"], app.store.current_position(),
                             timeout=10)
    second.set()
    for runner in runners:
        runner.join(timeout=10)
    ledger = [r["position"] for r in conn.execute("SELECT position FROM ledger ORDER BY 1")]
    assert ledger == all_positions(conn)


def _create(project_id: UUID, title: str) -> CreateTicket:
    return CreateTicket(project_id=project_id, title=title)
