"""SIGKILL a running projector process while thousands of events stream in; restarted, it ends
with no row missing and none doubled.

The kills follow the writer's progress, not the clock: one after every `KILL_EVERY` committed
commands, so every run kills the same number of times however fast the machine is."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import DictRow

from commands.messages import CommentOnTicket, EditTicket
from commands.services import Commands
from domain.values import Priority, Status, TicketType
from projections.catalog import READ_MODELS
from projections.positions import wait_for_position
from tests.projections.conftest import People, new_project, new_ticket
from tests.projections.test_properties import assert_read_models_fold_the_aggregates

Conn = psycopg.Connection[DictRow]
REPO = Path(__file__).resolve().parents[2]
COMMANDS = 1000
KILL_EVERY = 100
KILLS = COMMANDS // KILL_EVERY - 1
NAMES = [*(m.name for m in READ_MODELS), "ledger"]


def start_projector(database_url: str, log: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.projections.crash_projector", database_url],
        cwd=REPO, stdout=subprocess.PIPE, stderr=log.open("a"), text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "running"
    return process


class Progress:
    """How many commands the writer has committed, for the killer to wait on."""

    def __init__(self) -> None:
        self._done = 0
        self._finished = False
        self._changed = threading.Condition()

    def step(self) -> None:
        with self._changed:
            self._done += 1
            self._changed.notify_all()

    def finish(self) -> None:
        # Also when the writer fails, so the killer never waits for commands that won't come.
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def wait_for(self, commands: int) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: self._done >= commands or self._finished)
            return self._done >= commands


def stream_of_commands(app: Commands, people: People, progress: Progress) -> None:
    try:
        write_commands(app, people, progress)
    finally:
        progress.finish()


def write_commands(app: Commands, people: People, progress: Progress) -> None:
    """About three events per command: creations, multi-field edits, comments, status moves."""
    project_id = new_project(app, people.admin)
    tickets = []
    rng = random.Random(7)
    cycle = [Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.OPEN]
    for i in range(COMMANDS):
        if i % 4 == 0 or not tickets:
            tickets.append(new_ticket(app, people.dev, project_id, f"ticket {i}"))
            progress.step()
            continue
        ticket_id = rng.choice(tickets)
        ticket = app.tickets.get(people.dev, ticket_id)
        if i % 4 in (1, 2):
            app.tickets.edit(people.dev, EditTicket(
                ticket_id=ticket_id, title=f"title {i}", description=f"about {i}",
                tags=(f"t{i}",), due_date=date(2030, 1, 1) + timedelta(days=i),
                priority=rng.choice(list(Priority)), type=rng.choice(list(TicketType))))
            app.tickets.comment(
                people.dev, CommentOnTicket(ticket_id=ticket_id, body=f"comment {i}")
            )
        else:
            status = cycle[(cycle.index(ticket.status) + 1) % len(cycle)]
            app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, status=status))
        progress.step()


def test_sigkilled_projector_loses_and_doubles_nothing(
    app: Commands, people: People, conn: Conn, scratch_database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "projector.log"
    progress = Progress()
    writer = threading.Thread(target=stream_of_commands, args=(app, people, progress))
    writer.start()
    kills = 0
    for kill in range(1, KILLS + 1):
        process = start_projector(scratch_database_url, log)
        reached = progress.wait_for(kill * KILL_EVERY)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += reached
    writer.join()

    process = start_projector(scratch_database_url, log)
    try:
        assert wait_for_position(scratch_database_url, NAMES, app.store.current_position(), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()[-3000:]

    assert kills == KILLS
    events = conn.execute("SELECT count(*) AS n FROM trail_events").fetchone()
    assert events is not None and events["n"] > 3000
    ledger = conn.execute("SELECT position FROM ledger ORDER BY 1").fetchall()
    positions = conn.execute("SELECT notification_id AS position FROM trail_events ORDER BY 1")
    assert ledger == positions.fetchall(), "every event exactly once"
    assert_read_models_fold_the_aggregates(app, conn, people)
