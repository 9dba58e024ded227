"""Email benchmark: latency from a command's commit to the SMTP server accepting its emails, at a
steady command rate, and the throughput one worker process sustains.

    uv run python bench/email.py --rate 100 --seconds 30 --assignees 3

Processes, as in production: this driver (commands through the Trail application service), the
notifier (outbox projection + relay), --workers email workers (Dramatiq, --threads threads each)
and an aiosmtpd server, each its own process on this machine, with PostgreSQL and Redis.

Phase 1 (steady): commands at --rate per second for --seconds, open loop (each command starts at
its scheduled time, whatever the previous ones did), each a title change on a ticket with
--assignees assignees, so rate x assignees emails per second. Latency per email = the time the
SMTP server accepted it minus the time the command's save returned (its commit).
Phase 2 (capacity): with the worker stopped, --backlog commands pile up in the outbox and Redis;
then the workers start and the time to drain them gives the emails per second they sustain.

Every email is matched to its command by its X-Trail-Position header and to its outbox row by
X-Trail-Outbox-Id: lost = expected and never accepted, doubled = one outbox row accepted twice.
The database `trail_bench_email` is created and dropped on --server-url, by default on an embedded
PostgreSQL (data under bench/results/); Redis keys live under a namespace of the run's own,
deleted afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's directory would come first on sys.path and this module would
# shadow the standard library's `email` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from multiprocessing.synchronize import Event  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import psutil  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from psycopg import sql  # noqa: E402

DATABASE = "trail_bench_email"
SPAWN = multiprocessing.get_context("spawn")


# --------------------------------------------------------------------------- child processes


def smtp_process(port: int, record: str, ready: Event, stop: Event) -> None:
    """aiosmtpd that appends `accepted_at position outbox_id rcpt` per recipient to `record`."""
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    out = open(record, "a", buffering=1)  # noqa: SIM115 - open for the life of the process

    class Recorder:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            at = time.time()
            # Headers only: this server must not be what limits the measurement.
            headers = BytesHeaderParser().parsebytes(envelope.content)
            for rcpt in envelope.rcpt_tos:
                out.write(f"{at} {headers['X-Trail-Position']} {headers['X-Trail-Outbox-Id']} "
                          f"{rcpt}\n")
            return "250 Message accepted for delivery"

    controller = Controller(Recorder(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    out.close()


def notifier_process(database_url: str, redis_url: str, settings: Any, delivery: Any,
                     stop: Event) -> None:
    from runtime import bootstrap

    notifier = bootstrap.notifier(settings, database_url, redis_url, delivery)
    notifier.start()
    stop.wait()
    notifier.stop()


def worker_process(database_url: str, redis_url: str, settings: Any, delivery: Any,
                   stop: Event) -> None:
    from runtime import bootstrap

    worker = bootstrap.email_worker(settings, database_url, redis_url, delivery)
    worker.start()
    stop.wait()
    worker.stop()


class Child:
    def __init__(self, target: Any, *args: Any) -> None:
        self.stop = SPAWN.Event()
        self.process = SPAWN.Process(target=target, args=(*args, self.stop), daemon=True)
        self.process.start()

    def cpu(self) -> float:
        """CPU seconds this process has used so far."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        self.stop.set()
        self.process.join(60)
        if self.process.is_alive():
            self.process.kill()


# --------------------------------------------------------------------------- driver


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _recreate_database(server_url: str) -> str:
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        # The embedded cluster's initdb writes 'pg_catalog.pg_catalog.english' here, which
        # parallel query workers reject; spell it out so parallel plans work.
        conn.execute(sql.SQL("ALTER DATABASE {} SET default_text_search_config = "
                             "'pg_catalog.english'").format(sql.Identifier(DATABASE)))
    return _with_database(server_url, DATABASE)


def _drop_database(server_url: str) -> None:
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(DATABASE)))


def _read_record(path: str) -> list[tuple[float, int, str, str]]:
    rows = []
    with open(path) as file:
        for line in file:
            at, position, outbox_id, rcpt = line.split()
            rows.append((float(at), int(position), outbox_id, rcpt))
    return rows


def _wait_for_lines(path: str, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as file:
            if sum(1 for _ in file) >= count:
                return True
        time.sleep(0.1)
    return False


class Driver:
    """Users, a project and tickets with N assignees each, then commands on a schedule."""

    def __init__(self, app: Any, assignees: int, tickets: int) -> None:
        from commands.messages import ChangeUser, CreateProject, CreateTicket, RegisterUser
        from domain.values import Role

        self.app = app

        def register(name: str) -> uuid.UUID:
            address = f"{name.lower().replace(' ', '.')}-{uuid.uuid4().hex[:6]}@example.com"
            command = RegisterUser(name=name, email=address, password="correct horse 42")
            return app.accounts.register(command).id

        self.admin = app.accounts.actor(register("Bench Admin"))
        developers = []
        for n in range(max(assignees * 4, assignees)):
            user_id = register(f"Developer {n}")
            app.accounts.change_user(self.admin, ChangeUser(user_id=user_id, role=Role.DEVELOPER))
            developers.append(user_id)
        project = app.projects.create(self.admin, CreateProject(name="Bench", key="BEN")).id
        self.tickets = [
            app.tickets.create(self.admin, CreateTicket(
                project_id=project, title=f"Ticket {n}",
                assignee_ids=tuple(developers[(n + k) % len(developers)]
                                   for k in range(assignees)),
            )).id
            for n in range(tickets)
        ]
        self.counter = 0
        self.lock = threading.Lock()

    def edit(self) -> tuple[int, float]:
        """One title change on the next ticket; returns its position and commit time."""
        from commands.messages import EditTicket

        with self.lock:
            self.counter += 1
            n = self.counter
        ticket = self.tickets[n % len(self.tickets)]
        outcome = self.app.tickets.edit(self.admin, EditTicket(ticket_id=ticket, title=f"Edit {n}"))
        return outcome.position, time.time()

    def steady(self, rate: float, seconds: float, threads: int) -> tuple[dict[int, float], float]:
        """Commands at `rate`/s for `seconds`, open loop; their commit times by position, and
        the worst lag of a command's start behind its schedule."""
        total = int(rate * seconds)
        start = time.monotonic() + 0.5
        commits: dict[int, float] = {}
        lag = [0.0]
        next_index = [0]
        lock = threading.Lock()

        def run() -> None:
            while True:
                with lock:
                    index = next_index[0]
                    next_index[0] += 1
                if index >= total:
                    return
                due = start + index / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                late = time.monotonic() - due
                position, committed = self.edit()
                with lock:
                    commits[position] = committed
                    lag[0] = max(lag[0], late)

        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return commits, lag[0]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _check(record: list[tuple[float, int, str, str]], positions: set[int],
           per_command: int) -> dict[str, int]:
    """Lost and doubled emails among those for `positions`."""
    by_row = Counter(outbox_id for _, position, outbox_id, _ in record if position in positions)
    per_position: dict[int, set[str]] = defaultdict(set)
    for _, position, outbox_id, _ in record:
        if position in positions:
            per_position[position].add(outbox_id)
    expected = len(positions) * per_command
    delivered = sum(len(ids) for ids in per_position.values())
    return {
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "doubled": sum(count - 1 for count in by_row.values() if count > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--assignees", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--drivers", type=int, default=16, help="threads issuing commands")
    parser.add_argument("--backlog", type=int, default=1000,
                        help="commands piled up for the capacity phase (0 skips it)")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="a PostgreSQL server to use (default: an embedded one of its own, "
                             "so other clients of a shared server can't starve it of "
                             "connections)")
    parser.add_argument("--redis-url", default=os.environ.get(
        "BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from commands.base import Trail
    from commands.services import build_commands
    from runtime.embedded import postgres_env
    from runtime.migrate import migrate
    from runtime.settings import Settings
    from workers.config import Delivery

    embedded = None
    if args.server_url is None:
        from runtime.embedded import start_postgres

        embedded = start_postgres(_HERE / "results" / "email-postgres")
        args.server_url = embedded.url
    database_url = _recreate_database(args.server_url)
    namespace = f"trail-bench-{uuid.uuid4().hex[:8]}"
    delivery = Delivery(worker_threads=args.threads, namespace=namespace)
    port = _free_port()
    scratch = tempfile.mkdtemp(prefix="trail-bench-email-")
    record = os.path.join(scratch, "accepted.txt")
    open(record, "w").close()
    settings = Settings(smtp_url=f"smtp://127.0.0.1:{port}", base_url="http://bench.test",
                        mail_from="Trail <trail@bench.test>", data_dir=Path(scratch))
    children: list[Child] = []
    migrate(database_url)
    app = build_commands(Trail(postgres_env(database_url)))
    try:
        ready = SPAWN.Event()
        smtp = Child(smtp_process, port, record, ready)
        children.append(smtp)
        ready.wait(30)
        driver = Driver(app, args.assignees, args.tickets)
        warmup = args.tickets * args.assignees
        notifier = Child(notifier_process, database_url, args.redis_url, settings, delivery)
        children.append(notifier)
        workers = [Child(worker_process, database_url, args.redis_url, settings, delivery)
                   for _ in range(args.workers)]
        children += workers
        print(f"warm-up: {warmup} creation emails…", flush=True)
        if not _wait_for_lines(record, warmup, 120):
            raise SystemExit("warm-up emails did not all arrive")

        print(f"steady: {args.rate:g} commands/s x {args.assignees} assignees for "
              f"{args.seconds:g} s…", flush=True)
        load_before = os.getloadavg()[0]
        cpu_before = (notifier.cpu(), sum(w.cpu() for w in workers), smtp.cpu(),
                      time.process_time(), _postgres_cpu(database_url))
        commits, lag = driver.steady(args.rate, args.seconds, args.drivers)
        expected = len(commits) * args.assignees
        _wait_for_lines(record, warmup + expected, 60)
        cpu_after = (notifier.cpu(), sum(w.cpu() for w in workers), smtp.cpu(),
                     time.process_time(), _postgres_cpu(database_url))
        time.sleep(2)  # anything doubled arrives too
        accepted = [r for r in _read_record(record) if r[1] in commits]
        latencies = [at - commits[position] for at, position, _, _ in accepted]
        first, last = min(r[0] for r in accepted), max(r[0] for r in accepted)
        steady = {
            "commands": len(commits),
            "emails_per_s": len(accepted) / (last - first) if last > first else 0.0,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * _percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies),
            "worst_schedule_lag_ms": 1000 * lag,
            "commands_per_s_achieved": len(commits) / (max(commits.values())
                                                       - min(commits.values())),
            **_check(accepted, set(commits), args.assignees),
            "p99_ms_by_stage": _stages(database_url, commits, accepted),
            # What each process costs per command, whatever else the machine was doing: their
            # sum against the CPUs says whether this machine can carry the rate at all.
            "cpu_ms_per_command": {
                name: 1000 * (after - before) / len(commits)
                for name, before, after in zip(
                    ("notifier", "workers", "smtp server", "driver", "postgres"),
                    cpu_before, cpu_after, strict=True,
                )
            },
            "load_average_1min": [load_before, os.getloadavg()[0]],
        }
        print(json.dumps(steady, indent=2), flush=True)

        capacity: dict[str, Any] = {}
        if args.backlog:
            for worker in workers:
                worker.close()
                children.remove(worker)
            before = len(_read_record(record))
            print(f"capacity: piling up {args.backlog * args.assignees} emails…", flush=True)
            positions = {driver.edit()[0] for _ in range(args.backlog)}
            _wait_until_queued(database_url, 120)
            started = time.time()
            workers = [Child(worker_process, database_url, args.redis_url, settings, delivery)
                       for _ in range(args.workers)]
            children += workers
            _wait_for_lines(record, before + args.backlog * args.assignees, 300)
            worker_cpu = sum(w.cpu() for w in workers)
            time.sleep(2)
            drained = [r for r in _read_record(record) if r[1] in positions]
            capacity = {
                "emails": len(drained),
                # From the worker process's start (imports and connections included).
                "emails_per_s": len(drained) / (max(r[0] for r in drained) - started),
                # Start-up included.
                "worker_cpu_ms_per_email": 1000 * worker_cpu / len(drained),
                "load_average_1min": os.getloadavg()[0],
                **_check(drained, positions, args.assignees),
            }
            print(json.dumps(capacity, indent=2), flush=True)
        results = {
            "machine": f"{platform.machine()} {os.cpu_count()} CPUs, Python "
                       f"{platform.python_version()}",
            "args": {k: v for k, v in vars(args).items() if k not in ("json",)},
            "steady": steady,
            "capacity": capacity,
        }
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2, default=str))
    finally:
        for child in reversed(children):
            child.close()
        app.close()
        _drop_database(args.server_url)
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=f"{namespace}*"))
        if keys:
            client.delete(*keys)
        client.close()
        if embedded is not None:
            embedded.stop()


def _stages(database_url: str, commits: dict[int, float],
            accepted: list[tuple[float, int, str, str]]) -> dict[str, float]:
    """p99 of each stage: commit → outbox row (notifier), row → handed to Redis (relay),
    handed over → accepted by SMTP (Redis wait, worker, SMTP)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id::text, position, extract(epoch FROM created_at), "
            "extract(epoch FROM queued_at) FROM outbox WHERE position = ANY(%s)",
            (list(commits),),
        ).fetchall()
    times = {row[0]: (commits[row[1]], float(row[2]), float(row[3])) for row in rows}
    stages: dict[str, list[float]] = {"notifier": [], "relay": [], "worker": []}
    for at, _, outbox_id, _ in accepted:
        committed, created, queued = times[outbox_id]
        stages["notifier"].append(created - committed)
        stages["relay"].append(queued - created)
        stages["worker"].append(at - queued)
    return {name: 1000 * _percentile(values, 0.99) for name, values in stages.items()}


def _postgres_cpu(database_url: str) -> float:
    """CPU seconds used so far by the live processes of the PostgreSQL server (local; on a
    shared server other clients' backends count too, so it means something only on the
    embedded one)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    total = 0.0
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "postgres" and _serves(process, str(row[0])):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _serves(process: psutil.Process, data_directory: str) -> bool:
    """A postgres process belongs to the server of `data_directory` (its postmaster or a child)."""
    for candidate in [process, *process.parents()]:
        cmdline = candidate.cmdline()
        if data_directory in " ".join(cmdline):
            return True
    return False


def _wait_until_queued(database_url: str, timeout: float) -> None:
    """Until every outbox row is handed to Redis (the notifier has caught up)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
            head = conn.execute("SELECT max(notification_id) FROM trail_events").fetchone()
            done = conn.execute(
                "SELECT position FROM projection_versions WHERE name = 'outbox'").fetchone()
            if row == (0,) and head and done and done[0] >= head[0]:
                return
            time.sleep(0.1)
    raise SystemExit("the backlog was not all queued in time")


if __name__ == "__main__":
    main()
