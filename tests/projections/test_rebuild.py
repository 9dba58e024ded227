"""Blue/green rebuilds: same answers after, readers never fail or see a half-built model, and
the live runner follows the switch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from commands.messages import CommentOnTicket, CreateTeam, EditTicket, LinkTickets
from commands.services import Commands
from domain.links import LinkType
from domain.values import Role, Status
from domain.visibility import Viewer
from projections.base import LOCK_CLASS
from projections.catalog import READ_MODELS
from projections.comments import list_comments
from projections.errors import NotRebuildable, RebuildInProgress
from projections.positions import wait_for_position
from projections.projector import run_projections
from projections.rebuild import rebuild
from projections.runner import catch_up
from projections.stats import StatsFilters, stats
from projections.tickets import TicketFilters, get_ticket, list_tickets
from tests.projections.conftest import People, new_project, new_ticket, project_all, snapshot
from tests.projections.ledger import Ledger

Conn = psycopg.Connection[DictRow]
TICKETS = 150


@pytest.fixture(scope="module")
def populated(app: Commands, people: People, trail_env: dict[str, str]) -> list[object]:
    """A project whose tickets have been edited, commented, linked, nested and given to a team,
    all projected."""
    project_id = new_project(app, people.admin)
    team_id = app.teams.create(people.admin, CreateTeam(name="Rebuilders",
                                                        lead_id=people.dev.id)).id
    tickets: list[object] = []
    for i in range(TICKETS):
        parent = tickets[i - 1] if i % 4 == 1 else None
        ticket_id = new_ticket(app, people.dev, project_id, f"ticket {i}", tags=(f"t{i % 7}",),
                               team_id=team_id if i % 2 else None, parent_id=parent)
        app.tickets.comment(people.dev, CommentOnTicket(ticket_id=ticket_id, body=f"note {i}"))
        if i % 3 == 0:
            app.tickets.edit(people.dev, EditTicket(ticket_id=ticket_id, status=Status.CLOSED))
        if i % 5 == 4:
            app.links.add(people.dev, LinkTickets(ticket_id=ticket_id, type=LinkType.BLOCKS,
                                                  other_id=tickets[i - 2]))
        tickets.append(ticket_id)
    project_all(trail_env)
    return tickets


def test_rebuilding_every_projection_leaves_every_answer_identical(
    populated: list[object], conn: Conn, trail_env: dict[str, str]
) -> None:
    before = snapshot(conn)
    rows = conn.execute("SELECT name, version FROM projection_versions").fetchall()
    versions = {row["name"]: row["version"] for row in rows}
    for model in READ_MODELS:
        done = rebuild(model, trail_env)
        assert done.version == versions[model.name] + 1
    assert snapshot(conn) == before
    schemas = conn.execute("SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'rm_%'")
    assert schemas.fetchone() == {"n": len(versions)}, "old versions are dropped"


def _reader(conn_url: str, people: People, expected: int, failures: list[BaseException],
            stop: threading.Event, reads: list[int]) -> None:
    viewer = Viewer(id=people.admin.id, role=Role.ADMIN)
    with psycopg.connect(conn_url, autocommit=True, row_factory=dict_row) as conn:
        while not stop.is_set():
            try:
                _read_everything(conn, viewer, expected)
                reads.append(1)
            except BaseException as error:
                failures.append(error)
                return


def _read_everything(conn: Conn, viewer: Viewer, expected: int) -> None:
    count = conn.execute("SELECT count(*) AS n FROM tickets").fetchone()
    assert count is not None and count["n"] >= expected, f"partial tickets: {count}"
    page = list_tickets(conn, TicketFilters(sort="created_at"), viewer, 100)
    assert len(page.items) == 100
    first = page.items[0]
    assert get_ticket(conn, first.id, viewer) is not None
    assert len(list_comments(conn, first.id).items) == 1
    by_status = stats(conn, StatsFilters()).by_status
    assert sum(by_status.values()) >= expected, f"partial stats: {by_status}"


def test_reads_never_fail_nor_see_a_partial_model_while_rebuilding_under_writes(
    app: Commands, people: People, populated: list[object], trail_env: dict[str, str],
    scratch_database_url: str,
) -> None:
    stopping, stop_readers = threading.Event(), threading.Event()
    failures: list[BaseException] = []
    reads: list[int] = []
    projector = threading.Thread(target=run_projections, args=(READ_MODELS, trail_env, stopping))
    readers = [
        threading.Thread(target=_reader, args=(scratch_database_url, people, TICKETS, failures,
                                               stop_readers, reads))
        for _ in range(2)
    ]
    writes = _background(lambda: new_ticket(app, people.dev, new_project(app, people.admin)))
    projector.start()
    for reader in readers:
        reader.start()
    try:
        for model in READ_MODELS:
            rebuild(model, trail_env)
    finally:
        writes.set()
        stop_readers.set()
        for reader in readers:
            reader.join()
    try:
        assert not failures, failures[0]
        assert len(reads) > 10
        last = new_ticket(app, people.dev, new_project(app, people.admin), "after the switch")
        assert wait_for_position(scratch_database_url, [m.name for m in READ_MODELS],
                                 app.store.current_position(), timeout=10)
        with psycopg.connect(scratch_database_url, row_factory=dict_row) as conn:
            assert get_ticket(conn, last, Viewer(id=people.admin.id, role=Role.ADMIN))
    finally:
        stopping.set()
        projector.join()


def _background(action: Callable[[], object]) -> threading.Event:
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            action()
            time.sleep(0.01)

    threading.Thread(target=loop, daemon=True).start()
    return stop


def test_the_outbox_kind_of_projection_refuses_to_rebuild(trail_env: dict[str, str]) -> None:
    class Once(Ledger):
        name = "once"
        rebuildable = False

    with pytest.raises(NotRebuildable):
        rebuild(Once, trail_env)


def test_two_rebuilds_of_one_projection_do_not_run_at_once(
    trail_env: dict[str, str], scratch_database_url: str
) -> None:
    with psycopg.connect(scratch_database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, hashtext('rebuild:ledger'))", (LOCK_CLASS,))
        with pytest.raises(RebuildInProgress):
            rebuild(Ledger, trail_env)


def test_a_new_revision_of_the_code_rebuilds_before_running(
    populated: list[object], conn: Conn, trail_env: dict[str, str]
) -> None:
    catch_up(Ledger, trail_env)
    live = conn.execute("SELECT version FROM projection_versions WHERE name = 'ledger'")
    old = live.fetchone()

    class LedgerV2(Ledger):
        name = "ledger"
        revision = 2

    catch_up(LedgerV2, trail_env)
    row = conn.execute("SELECT version, revision FROM projection_versions WHERE name = 'ledger'")
    assert old is not None and row.fetchone() == {"version": old["version"] + 1, "revision": 2}
    counts = conn.execute("SELECT count(*) AS n, count(DISTINCT position) AS d FROM ledger")
    events = conn.execute("SELECT count(*) AS n FROM trail_events").fetchone()
    assert events is not None and counts.fetchone() == {"n": events["n"], "d": events["n"]}


def test_a_switch_waits_out_a_long_reader_instead_of_failing(
    populated: list[object], conn: Conn, trail_env: dict[str, str], scratch_database_url: str
) -> None:
    """A reader holding the view longer than the switch's lock timeout makes it retry, and the
    readers queued behind the switch are not stuck for longer than that timeout."""
    from projections.users import UsersProjection

    before = conn.execute("SELECT version FROM projection_versions WHERE name = 'users'")
    old = before.fetchone()
    with psycopg.connect(scratch_database_url) as reader:
        reader.execute("SELECT count(*) FROM users").fetchone()  # holds the view until commit
        release = threading.Timer(3.0, reader.commit)
        release.start()
        started = time.perf_counter()
        done = rebuild(UsersProjection, trail_env)
        release.join()
    assert time.perf_counter() - started >= 3.0
    assert old is not None and done.version == old["version"] + 1
