"""Write-side benchmark: commands per second and p50/p99 latency through the Trail application
service, next to two references measured in the same run at the same concurrency:

* raw single-row INSERTs from Python threads with psycopg, one transaction per row (the same
  stack without Trail: what Python + psycopg + PostgreSQL commit can do), plus the same INSERT
  under the EXCLUSIVE table lock the event store takes (what serialising writers costs);
* pgbench running a one-row INSERT script (the database's own limit on this machine).

    uv run python bench/commands.py --seconds 10

It creates (and drops afterwards) the database `trail_bench_commands` on the server given by
--server-url (default: the local PostgreSQL on 127.0.0.1:5432).

Trail workloads, each thread on its own aggregate so that no conflict is artificial:
  create        each thread creates tickets in its own project
  edit-status   each thread toggles the status of its own tickets (open <-> in_progress)
  comment       each thread comments on its own tickets
  create-1proj  every thread creates tickets in ONE project: shows that numbering does not make
                creators collide; the retries column counts saves that lost a race and were retried
Each thread round-robins over its own tickets so that a ticket stays a realistic size (the
aggregates are rebuilt from their events on every command; there are no snapshots).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Run as a script, this file's directory comes first on sys.path and this module would shadow
# the `commands` package it benchmarks.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import psycopg  # noqa: E402
from eventsourcing.persistence import IntegrityError  # noqa: E402
from psycopg import sql  # noqa: E402

from commands.base import Trail  # noqa: E402
from commands.messages import (  # noqa: E402
    ChangeUser,
    CommentOnTicket,
    CreateProject,
    CreateTicket,
    EditTicket,
    RegisterUser,
)
from commands.permissions import Actor  # noqa: E402
from commands.services import build_commands  # noqa: E402
from domain.values import Role, Status  # noqa: E402
from runtime.embedded import postgres_env  # noqa: E402
from runtime.migrate import migrate  # noqa: E402

DATABASE = "trail_bench_commands"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TICKETS_PER_THREAD = 64
WARMUP_OPS = 3
# About the size of a stored ticket event, so the references write comparable rows.
PAYLOAD = b'{"actor_id":"' + b"x" * 36 + b'","command_id":"' + b"y" * 36 + b'","body":"' + (
    b"z" * 180
) + b'"}'
REFERENCE_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    payload bytea NOT NULL
)
"""


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    concurrency: int
    ops: int
    seconds: float
    latencies: list[float] = field(repr=False)
    retries: int | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


def run_threads(
    concurrency: int,
    seconds: float,
    setup: Callable[[int], Any],
    op: Callable[[int, Any], None],
    on_start: Callable[[], None] = lambda: None,
) -> tuple[int, float, list[float]]:
    """Each thread runs setup(i), a few warm-up ops, then ops until the shared deadline."""
    start: list[float] = []

    def begin() -> None:
        on_start()
        start.append(time.perf_counter())

    barrier = threading.Barrier(concurrency, action=begin)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    ended = [0.0] * concurrency
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            state = setup(i)
            for _ in range(WARMUP_OPS):
                op(i, state)
            barrier.wait()
            deadline = start[0] + seconds
            mine = latencies[i]
            now = time.perf_counter()
            while now < deadline:
                op(i, state)
                done = time.perf_counter()
                mine.append(done - now)
                now = done
            ended[i] = now
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    everything = [x for mine in latencies for x in mine]
    return len(everything), max(ended) - start[0], everything


# --- Trail -------------------------------------------------------------------------------------


class CountingTrail(Trail):
    """Counts the saves that lost a race and made the service reload, decide again and retry."""

    name = "trail"  # eventsourcing would otherwise name the application (and its tables) anew

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.conflicts = 0
        self._lock = threading.Lock()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        try:
            return super().save(*objs, **kwargs)
        except IntegrityError:
            with self._lock:
                self.conflicts += 1
            raise


class TrailBench:
    """The Trail workloads at one concurrency, on a Trail whose pool fits that concurrency (so
    the run holds no more connections than it uses)."""

    def __init__(self, url: str, concurrency: int, admin: Actor, dev: Actor) -> None:
        env = postgres_env(url)
        env["POSTGRES_POOL_SIZE"] = str(concurrency + 1)
        env["POSTGRES_MAX_OVERFLOW"] = "2"
        self.store = CountingTrail(env)
        self.app = build_commands(self.store)
        self.admin, self.dev = admin, dev

    @staticmethod
    def people(url: str) -> tuple[Actor, Actor]:
        """Register the admin (the first account) and a developer once for the whole run."""
        env = postgres_env(url)
        env["POSTGRES_POOL_SIZE"] = "1"
        app = build_commands(Trail(env))
        try:
            admin = app.accounts.actor(app.accounts.register(RegisterUser(
                name="Bench Admin", email="admin@bench.example", password="bench password 1",
            )).id)
            assert admin.role is Role.ADMIN, "the bench database must start empty"
            dev_id = app.accounts.register(RegisterUser(
                name="Bench Developer", email="dev@bench.example", password="bench password 2",
            )).id
            app.accounts.change_user(admin, ChangeUser(user_id=dev_id, role=Role.DEVELOPER))
            return admin, app.accounts.actor(dev_id)
        finally:
            app.close()

    def close(self) -> None:
        self.app.close()

    def project(self) -> uuid.UUID:
        name = f"Bench {uuid.uuid4().hex[:12]}"
        return self.app.projects.create(self.admin, CreateProject(name=name)).id

    def tickets(self, project_id: uuid.UUID, n: int) -> list[uuid.UUID]:
        return [
            self.app.tickets.create(self.dev, CreateTicket(project_id=project_id,
                                                          title=f"Bench ticket {k}")).id
            for k in range(n)
        ]

    def measure(self, name: str, concurrency: int, seconds: float,
                setup: Callable[[int], Any], op: Callable[[int, Any], None]) -> Result:
        counted: dict[str, int] = {}
        ops, elapsed, latencies = run_threads(
            concurrency, seconds, setup, op,
            on_start=lambda: counted.setdefault("before", self.store.conflicts),
        )
        return Result(name, concurrency, ops, elapsed, latencies,
                      retries=self.store.conflicts - counted["before"])

    def create(self, concurrency: int, seconds: float) -> Result:
        def setup(i: int) -> uuid.UUID:
            return self.project()

        def op(i: int, project_id: uuid.UUID) -> None:
            self.app.tickets.create(self.dev, CreateTicket(project_id=project_id,
                                                          title="Bench ticket"))

        return self.measure("trail create", concurrency, seconds, setup, op)

    def edit_status(self, concurrency: int, seconds: float) -> Result:
        def setup(i: int) -> dict[str, Any]:
            tickets = self.tickets(self.project(), TICKETS_PER_THREAD)
            return {"tickets": tickets, "status": dict.fromkeys(tickets, Status.OPEN), "n": 0}

        def op(i: int, mine: dict[str, Any]) -> None:
            ticket_id = mine["tickets"][mine["n"] % TICKETS_PER_THREAD]
            mine["n"] += 1
            to = Status.IN_PROGRESS if mine["status"][ticket_id] is Status.OPEN else Status.OPEN
            self.app.tickets.edit(self.dev, EditTicket(ticket_id=ticket_id, status=to))
            mine["status"][ticket_id] = to

        return self.sized(self.measure("trail edit-status", concurrency, seconds, setup, op))

    def comment(self, concurrency: int, seconds: float) -> Result:
        def setup(i: int) -> dict[str, Any]:
            return {"tickets": self.tickets(self.project(), TICKETS_PER_THREAD), "n": 0}

        def op(i: int, mine: dict[str, Any]) -> None:
            ticket_id = mine["tickets"][mine["n"] % TICKETS_PER_THREAD]
            mine["n"] += 1
            self.app.tickets.comment(self.dev, CommentOnTicket(ticket_id=ticket_id,
                                                       body=f"bench comment {mine['n']}"))

        return self.sized(self.measure("trail comment", concurrency, seconds, setup, op))

    @staticmethod
    def sized(result: Result) -> Result:
        per_ticket = 1 + (result.ops / result.concurrency + WARMUP_OPS) / TICKETS_PER_THREAD
        result.note = f"tickets end at ~{per_ticket:.0f} events"
        return result

    def create_one_project(self, concurrency: int, seconds: float) -> Result:
        project_id = self.project()
        made = [0] * concurrency

        def op(i: int, _: None) -> None:
            self.app.tickets.create(self.dev, CreateTicket(project_id=project_id,
                                                          title="Shared project ticket"))
            made[i] += 1

        result = self.measure("trail create-1proj", concurrency, seconds, lambda i: None, op)
        last = self.last_number(project_id)
        gapless = last == sum(made)
        result.note = f"numbers 1..{last}, {'gapless' if gapless else 'NOT GAPLESS'}"
        if not gapless:
            raise AssertionError(f"{sum(made)} tickets created but the last number is {last}")
        return result

    def last_number(self, project_id: uuid.UUID) -> int:
        with self.store.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT last_number FROM ticket_numbers WHERE project_id = %s",
                         (project_id,))
            row = curs.fetchone()
        assert row is not None
        return int(row["last_number"])


# --- references ---------------------------------------------------------------------------


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """Connect, waiting out a server that is momentarily at max_connections (a shared machine)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return psycopg.connect(url, **kwargs)
        except psycopg.OperationalError as error:
            if "too many clients" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def psycopg_inserts(url: str, concurrency: int, seconds: float, *, locked: bool) -> Result:
    table = "bench_locked" if locked else "bench_psycopg"
    insert = sql.SQL("INSERT INTO {} (payload) VALUES (%s)").format(sql.Identifier(table))
    lock = sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(table))
    connections: list[psycopg.Connection[Any]] = []

    def setup(i: int) -> psycopg.Connection[Any]:
        conn = connect(url, autocommit=True)
        connections.append(conn)
        return conn

    def op(i: int, conn: psycopg.Connection[Any]) -> None:
        if locked:
            with conn.transaction():
                conn.execute(lock)
                conn.execute(insert, (PAYLOAD,))
        else:
            conn.execute(insert, (PAYLOAD,))

    try:
        ops, elapsed, latencies = run_threads(concurrency, seconds, setup, op)
    finally:
        for conn in connections:
            conn.close()
    name = "psycopg insert+lock" if locked else "psycopg insert"
    return Result(name, concurrency, ops, elapsed, latencies)


def pgbench(url: str, concurrency: int, seconds: float) -> Result:
    parts = urlsplit(url)
    script = (
        "INSERT INTO bench_pgbench (payload) "
        f"VALUES (convert_to(repeat('z', {len(PAYLOAD)}), 'UTF8'));\n"
    )
    with tempfile.TemporaryDirectory(prefix="trail-pgbench-") as tmp:
        script_path = Path(tmp) / "insert.sql"
        script_path.write_text(script)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if parts.password:
            env["PGPASSWORD"] = parts.password
        command = [
            "pgbench", "-n", "-c", str(concurrency), "-j", str(concurrency),
            "-T", str(max(1, round(seconds))), "-f", str(script_path),
            "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
            "-U", parts.username or "postgres",
            "-l", f"--log-prefix={tmp}/log",
            parts.path.lstrip("/"),
        ]
        for _ in range(10):
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode == 0 or "too many clients" not in done.stderr:
                break
            for log in Path(tmp).glob("log*"):
                log.unlink()
            time.sleep(2)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()}")
        latencies: list[float] = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3:
                    latencies.append(int(fields[2]) / 1_000_000)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output:\n{done.stdout}")
    tps = float(match.group(1))
    measured = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    ops = int(measured.group(1)) if measured else len(latencies)
    shown = [a if not a.startswith(("--log-prefix", tmp)) else "" for a in command]
    shown[shown.index("-f") + 1] = "insert.sql"
    return Result("pgbench insert", concurrency, ops, ops / tps if tps else 0.0, latencies,
                  note=" ".join(a for a in shown if a and a != "-l"))


# --- database --------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def bench_database(server_url: str, keep: bool) -> Iterator[str]:
    identifier = sql.Identifier(DATABASE)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    url = with_database(server_url, DATABASE)
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("bench_psycopg", "bench_locked", "bench_pgbench"):
            conn.execute(sql.SQL(REFERENCE_DDL).format(table=sql.Identifier(table)))
    try:
        yield url
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


def describe_server(url: str) -> str:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    return (f"PostgreSQL {version[0] if version else '?'} (synchronous_commit="
            f"{sync[0] if sync else '?'}, fsync={fsync[0] if fsync else '?'})")


# --- report ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def report(results: list[Result]) -> str:
    lines = []
    header = (f"{'workload':<20} {'C':>3} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'retries':>7} {'vs psycopg':>10} {'vs pgbench':>10}  note")
    lines += [header, "-" * len(header)]
    by_c: dict[int, dict[str, Result]] = {}
    for r in results:
        by_c.setdefault(r.concurrency, {})[r.name] = r
    for c in sorted(by_c):
        group = by_c[c]
        raw, pg = group.get("psycopg insert"), group.get("pgbench insert")
        for r in sorted(group.values(), key=lambda r: (not r.name.startswith("trail"), r.name)):
            vs_raw = f"{r.rate / raw.rate:.2f}" if raw and raw.rate else "-"
            vs_pg = f"{r.rate / pg.rate:.2f}" if pg and pg.rate else "-"
            retries = "-" if r.retries is None else str(r.retries)
            lines.append(
                f"{r.name:<20} {c:>3} {r.rate:>9.0f} {ms(r.percentile(50)):>8} "
                f"{ms(r.percentile(99)):>8} {retries:>7} {vs_raw:>10} {vs_pg:>10}  {r.note}"
            )
        lines.append("")
    return "\n".join(lines)


def show(results: list[Result], result: Result) -> None:
    results.append(result)
    print(f"  {result.name:<20} C={result.concurrency:<3} {result.rate:>8.0f}/s  "
          f"p50 {ms(result.percentile(50))} ms  p99 {ms(result.percentile(99))} ms", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--concurrency", default="1,4,16",
                        help="comma-separated thread counts (default 1,4,16)")
    parser.add_argument("--server-url", default=DEFAULT_SERVER,
                        help=f"a PostgreSQL URL on the server to use (default {DEFAULT_SERVER})")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    if shutil.which("pgbench") is None:
        parser.error("pgbench is not on PATH (apt-get install postgresql-client)")

    load = os.getloadavg()
    print(f"Trail write-side benchmark: {args.seconds:g} s per measurement, concurrency "
          f"{levels}, {os.cpu_count()} CPUs, load {load[0]:.2f}, Python "
          f"{platform.python_version()}", flush=True)
    results: list[Result] = []
    with bench_database(args.server_url, args.keep) as url:
        print(f"database {DATABASE} on {urlsplit(url).hostname}:{urlsplit(url).port or 5432}, "
              f"{describe_server(url)}", flush=True)
        admin, dev = TrailBench.people(url)
        for c in levels:
            trail = TrailBench(url, c, admin, dev)
            try:
                runs: list[Callable[[int, float], Result]] = [
                    trail.create, trail.edit_status, trail.comment, trail.create_one_project,
                ]
                for run in runs:
                    show(results, run(c, args.seconds))
            finally:
                trail.close()
            show(results, psycopg_inserts(url, c, args.seconds, locked=False))
            show(results, psycopg_inserts(url, c, args.seconds, locked=True))
            show(results, pgbench(url, c, args.seconds))
    print()
    print(report(results))
    print(f"pgbench script insert.sql: INSERT INTO bench_pgbench (payload) VALUES "
          f"(convert_to(repeat('z', {len(PAYLOAD)}), 'UTF8'));")
    print("retries: saves that lost a race (IntegrityError) and were reloaded and retried")
    return 0


if __name__ == "__main__":
    sys.exit(main())
