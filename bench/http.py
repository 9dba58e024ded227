"""Whole-system HTTP benchmark: Trail as it runs (`trail serve`: API, projector, notifier and email
worker), driven over loopback, with the CPU every process spends per request, the projections'
lag, the email backlog, and bare counterparts measured in the same run.

    uv run python -m bench.http --seconds 10
    uv run python -m bench.http --seconds 20 --profile create

(`-m`: as a script, this file would shadow the standard library's `http` package.)

Trail is driven from outside only: the `trail` command as a subprocess, HTTP, and plain SQL for
the bare baselines and the projection positions. The bench creates the database
`trail_bench_http` on --server-url (dropped at the end unless --keep), runs `trail serve` on it
with REDIS_URL on --redis-url (db 14, an email namespace of its own), TRAIL_DATA_DIR in a
temporary directory and no SMTP_URL (emails become .eml files), seeds users, projects and
tickets (1-3 assignees each) over HTTP, then runs each scenario at each concurrency C (C
keep-alive connections, each a closed loop), a warm-up and then --seconds measured:

  create     POST /tickets (1-3 assignees)
  update     PATCH /tickets/{id} (status open <-> in_progress) then POST /tickets/{id}/comments;
             each connection on its own tickets, so no conflict is artificial
  read-list  GET /tickets, filtered (project and status, priority, tag, or a sort), 25 per page
  read-one   GET /tickets/{id} then GET /tickets/{id}/history
  mixed      35% read-list, 35% read-one, 20% update, 10% create

and the bare counterparts (bench/baseline.py) at the same C: bare-insert for create and update,
bare-one for read-one, bare-page for read-list. CPU per request comes from /proc (bench/procstat.py)
for every process of the `trail serve` tree (by role), PostgreSQL (the postmaster and its
children) and Redis; lag from polling `projection_versions` (bench/lag.py). Before each Trail cell
the system is left to settle (projections caught up, outbox drained); after a write cell the bench
times the drain and reports the CPU from the window's start to the drain's end as well.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and not __package__:
    sys.exit("run it as a module: uv run python -m bench.http")

import argparse
import contextlib
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench import baseline, loadgen, procstat, pyspy
from bench.lag import LagPoller, outbox_backlog
from bench.report import BARE, Cell, cell_figures, figures, print_profile, print_tables
from bench.services import (
    DATABASE,
    REPO_ROOT,
    free_port,
    postmaster_pid,
    redis_pid,
    scratch_database,
    seed,
    started,
    trail_command,
    trail_env,
    wait_for,
    wait_settled,
)

RESULTS = REPO_ROOT / "bench" / "results"
SCENARIOS = ("create", "update", "read-list", "read-one", "mixed")
WRITES = ("create", "update", "mixed")
ZERO_UUID = "00000000-0000-0000-0000-000000000000"


# --------------------------------------------------------------------------- a cell


class System:
    """The processes whose CPU is counted, and the bench's own connections."""

    def __init__(self, database_url: str, serve_pid: int, bare_pid: int | None,
                 redis_client: redis.Redis) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.poller = LagPoller(database_url)
        self.serve_pid, self.bare_pid = serve_pid, bare_pid
        self.postmaster = postmaster_pid(self.conn)
        self.redis_pid = redis_pid(redis_client)
        self.trail_roles = procstat.trail_classifier(serve_pid)
        self.pg_port = int(self.conn.info.port)
        self.ports: dict[int, str] = {}
        self.pg_roles = procstat.postgres_classifier(
            DATABASE, {self.conn.info.backend_pid, self.poller.backend_pid}, self.ports)

    def snapshot(self, bare: bool) -> dict[str, procstat.Snapshot]:
        clients = {pid: role for role, pids in self.roles().items() for pid in pids}
        if self.bare_pid is not None:
            clients.update((pid, "bare") for pid in procstat.tree_pids(self.bare_pid))
        self.ports.clear()
        self.ports.update(procstat.client_ports(clients, self.pg_port))
        snaps = {"pg": procstat.snapshot_tree(self.postmaster, self.pg_roles)}
        if bare:
            assert self.bare_pid is not None
            snaps["app"] = procstat.snapshot_tree(self.bare_pid, lambda pid, argv: "bare")
        else:
            snaps["app"] = procstat.snapshot_tree(self.serve_pid, self.trail_roles)
        snaps["redis"] = procstat.Snapshot()
        if self.redis_pid is not None:
            snaps["redis"].add(self.redis_pid, "redis")
        snaps["self"] = procstat.Snapshot()
        snaps["self"].add(os.getpid(), "loadgen")
        return snaps

    def roles(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for pid in procstat.tree_pids(self.serve_pid):
            found.setdefault(self.trail_roles(pid, procstat.cmdline(pid)), []).append(pid)
        return found

    def close(self) -> None:
        self.poller.close()
        self.conn.close()


def cpu(start: dict[str, procstat.Snapshot], end: dict[str, procstat.Snapshot]
        ) -> dict[str, float]:
    totals: dict[str, float] = {}
    for key in start:
        reaped = procstat.PG_REAPED if key == "pg" else None
        for label, ms in procstat.cpu_ms(start[key], end[key], reaped).items():
            totals[label] = totals.get(label, 0.0) + ms
    return totals


def run_cell(system: System, port: int, token: str | None, seeded: loadgen.Seeded,
             scenario: str, users: int, args: argparse.Namespace,
             profile_to: Path | None = None) -> Cell:
    bare = scenario.startswith("bare-")
    if not bare:
        wait_settled(port, args.drain_timeout)
    writes = scenario in WRITES
    if writes:
        system.poller.start()
    rec = loadgen.Recorder()
    marks: dict[str, Any] = {"load": [os.getloadavg()[0]]}
    samplers: dict[str, Any] = {}

    def at_start() -> None:
        marks["machine"] = procstat.machine_ms()
        marks["start"] = system.snapshot(bare)
        if profile_to is not None:
            for role, pids in system.roles().items():
                if role != "serve":
                    for pid in pids:
                        name = role if role not in samplers else f"{role}-{pid}"
                        raw = profile_to.with_name(f"{profile_to.name}-{name}.txt")
                        samplers[name] = (raw, pyspy.start(pid, args.seconds, raw))

    def at_end() -> None:
        marks["end"] = system.snapshot(bare)
        machine = procstat.machine_ms()
        marks["machine"] = {k: v - marks["machine"][k] for k, v in machine.items()}
        if writes:
            marks["backlog"] = outbox_backlog(system.conn)

    start, end = loadgen.run_cell(port, token, seeded, scenario, users, args.warmup,
                                  args.seconds, rec, at_start, at_end)
    latencies, window_writes, errors, other_errors = rec.in_window(start, end)
    cell = Cell(scenario, users, end - start, latencies, errors, other_errors,
                cpu(marks["start"], marks["end"]), count_exited=args.pg_exclusive,
                machine=marks["machine"])
    # `pg` and `pg:ROLE`: the bench database's backends (not `pg-server`, `pg-other-db`, …).
    cell.pg_backends_exited = (
        procstat.vanished(marks["start"]["pg"], marks["end"]["pg"], "pg:")
        + sum(1 for t in marks["start"]["pg"].times.values() if t.label == "pg"
              and t.pid not in marks["end"]["pg"].times))
    if writes:
        # The drain: until every projection has every write of the window (or after it) and
        # no email is left to send; the CPU until then is the window's deferred work too.
        last = max((pos for _, pos in rec.writes), default=0)
        drained = time.monotonic()
        while time.monotonic() - drained < args.drain_timeout:
            if system.poller.reached(last) and outbox_backlog(system.conn)[0] == 0:
                break
            time.sleep(0.05)
        else:
            print(f"  !! not drained within {args.drain_timeout:.0f} s", flush=True)
        cell.drain_s = time.monotonic() - end
        cell.settled_cpu = cpu(marks["start"], system.snapshot(bare))
        system.poller.stop()
        cell.backlog_at_end, cell.failed_emails = marks["backlog"]
        cell.lag_ms, cell.lag_missing = system.poller.lags(window_writes)
        cell.lag_by_projection = {name: system.poller.lags(window_writes, name)[0]
                                  for name in system.poller.names()}
        cell.writes = len(window_writes)
    marks["load"].append(os.getloadavg()[0])
    cell.load = tuple(marks["load"])
    for role, (raw, sampler) in samplers.items():
        complaint = pyspy.finish(sampler, timeout=60)
        cell.profiles[role] = str(raw) if not complaint else f"failed: {complaint}"
    figures = cell_figures(cell)
    print(f"  {scenario:<12} C={users:<3} {figures['req_s']:8.1f} req/s  "
          f"{figures['cpu_ms_per_req'].get('sum', 0):6.2f} ms CPU/req  errors {len(errors)}"
          + (f" (+{other_errors} outside the window)" if other_errors else "")
          + f"  load {cell.load[0]:.1f}->{cell.load[1]:.1f}", flush=True)
    for example in sorted(set(errors))[:3]:
        print(f"      error: {example}", flush=True)
    return cell


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per cell")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured, per cell")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--tickets", type=int, default=2000, help="tickets to seed")
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--developers", type=int, default=6)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare counterparts")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--pg-exclusive", action="store_true",
                        help="the PostgreSQL server serves this bench only: count backends "
                        "that exited in the window (the postmaster's cutime/cstime) in its CPU")
    parser.add_argument("--idle", type=float, default=5.0,
                        help="seconds of no load measured before the cells")
    parser.add_argument("--profile", choices=SCENARIOS,
                        help="only this scenario at C=8, with py-spy on each Trail process")
    parser.add_argument("--api-niceness", type=int, default=None,
                        help="TRAIL_API_NICENESS for the run (default: Trail's own, 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database and data dir")
    parser.add_argument("--json", type=Path, help="where to write the figures "
                        "(default bench/results/http-<time>.json)")
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    concurrencies = [8] if args.profile else [int(c) for c in args.concurrency.split(",")]
    scenarios = [args.profile] if args.profile else [s for s in args.scenarios.split(",") if s]
    RESULTS.mkdir(parents=True, exist_ok=True)
    header = {"host": platform.node(), "platform": platform.platform(),
              "cpus": os.cpu_count(), "python": platform.python_version(),
              "command": " ".join(["python -m bench.http", *sys.argv[1:]]),
              "started": stamp, "load_before": os.getloadavg()}
    print(f"# {header['host']} {header['platform']}, {header['cpus']} CPUs, Python "
          f"{header['python']}, {args.seconds:g} s per cell after {args.warmup:g} s of warm-up, "
          f"load average {' '.join(f'{x:.2f}' for x in header['load_before'])}", flush=True)
    namespace = f"trail-bench-http-{os.getpid()}"
    redis_client = redis.Redis.from_url(args.redis_url)
    data_dir = Path(tempfile.mkdtemp(prefix="trail-bench-http-"))
    cells: list[Cell] = []
    try:
        with scratch_database(args.server_url, args.keep) as database_url:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(baseline.DDL)
                header["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
            header["redis"] = redis_client.info("server").get("redis_version")
            port, bare_port = free_port(), free_port()
            serve = [trail_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            env = trail_env(database_url, args.redis_url, data_dir, namespace)
            if args.api_niceness is not None:
                env["TRAIL_API_NICENESS"] = str(args.api_niceness)
            bare_app = [sys.executable, "-m", "uvicorn", "bench.baseline:create_app",
                        "--factory", "--host", "127.0.0.1", "--port", str(bare_port),
                        "--workers", "1", "--no-access-log", "--log-level", "warning"]
            bare_env = {**os.environ, "BENCH_DATABASE_URL": database_url}
            log, bare_log = data_dir / "serve.log", data_dir / "bare.log"
            with (started(serve, env, log) as serve_pid,
                  contextlib.ExitStack() as stack):
                bare_pid = None
                if not args.no_bare and not args.profile:
                    bare_pid = stack.enter_context(started(bare_app, bare_env, bare_log))
                    wait_for(bare_port, f"/bare/tickets?project_id={ZERO_UUID}", bare_pid,
                             bare_log)
                wait_for(port, "/health", serve_pid, log)
                token, seeded = seed(port, args.tickets, args.projects, args.developers)
                with psycopg.connect(database_url, autocommit=True) as conn:
                    baseline.seed_bare_tickets(conn, len(seeded.tickets), seeded.projects,
                                               seeded.developers)
                print(f"# seeded {len(seeded.tickets)} tickets in {len(seeded.projects)} "
                      f"projects ({args.developers} developers, 1-3 assignees each); settled in "
                      f"{wait_settled(port, args.drain_timeout):.1f} s", flush=True)
                system = System(database_url, serve_pid, bare_pid, redis_client)
                header["processes"] = {role: len(pids) for role, pids in system.roles().items()}
                stack.callback(system.close)
                # What the system burns with no request at all (pollers, timers), for reading
                # the per-request figures of slow cells.
                before = system.snapshot(bare=False)
                time.sleep(args.idle)
                header["idle_cpu_ms_per_s"] = {
                    label: round(ms / args.idle, 1)
                    for label, ms in cpu(before, system.snapshot(bare=False)).items()}
                for users in concurrencies:
                    done: set[str] = set()
                    for scenario in scenarios:
                        counterpart = BARE.get(scenario)
                        if bare_pid is not None and counterpart and counterpart not in done:
                            done.add(counterpart)
                            cells.append(run_cell(system, bare_port, None, seeded, counterpart,
                                                  users, args))
                        profile_to = (RESULTS / f"profile-{scenario}-{stamp}"
                                      if args.profile else None)
                        cells.append(run_cell(system, port, token, seeded, scenario, users,
                                              args, profile_to))
                header["access_log_lines"] = sum(
                    1 for line in log.read_text(errors="replace").splitlines()
                    if 'HTTP/1.1"' in line)
    finally:
        for key in redis_client.scan_iter(match=f"{namespace}*"):
            redis_client.delete(key)
        redis_client.close()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"# kept {data_dir} and the database {DATABASE}")
    header["load_after"] = os.getloadavg()
    print_tables(cells, header)
    if args.profile:
        for cell in cells:
            print_profile(cell, RESULTS)
    path = args.json or RESULTS / f"http-{stamp}{'-profile' if args.profile else ''}.json"
    path.write_text(json.dumps({"run": header, "cells": figures(cells)},
                               indent=1, default=str))
    print(f"# figures in {path}")
    errors = sum(len(c.errors) + c.other_errors for c in cells)
    if errors:
        banner = f"!!! THIS RUN HAD {errors} ERRORS: its figures are not to be trusted !!!"
        print("\n" + "!" * len(banner) + "\n" + banner + "\n" + "!" * len(banner))
        print(banner, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
