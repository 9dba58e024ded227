"""HTTP API benchmark: requests per second and p50/p95/p99 latency over loopback, next to two
references measured in the same run on the same machine:

* a bare baseline app on the same server setup (Litestar under uvicorn with the same number of
  workers, a sync handler in the thread pool, msgspec decoding a small JSON body, and one
  INSERT per request through a psycopg pool): what the HTTP stack costs without Trail;
* pgbench running a one-row INSERT script: the database's own limit on this machine.

    uv run python -m bench.http --seconds 10

(`-m`: as a script, this file would shadow the standard library's `http` package.)

It creates (and drops afterwards, unless --keep) the database `trail_bench_http` on the server
given by --server-url, starts `trail projector` and the API (`uvicorn
runtime.cli_api:app_from_environment`, --workers N) as subprocesses, seeds projects and
tickets through the API, then runs each scenario at each concurrency C (C connections, each a
closed loop of keep-alive requests):

  create     POST /tickets
  update     PATCH /tickets/{id} (status open <-> in_progress) then POST /tickets/{id}/comments;
             each connection on its own tickets, so no conflict is artificial
  read-list  GET /tickets, filtered (project and status, priority, tag, or a sort), 25 per page
  read-one   GET /tickets/{id} then GET /tickets/{id}/history
  mixed      70% reads (half read-list, half read-one), 20% update, 10% create

Latency is per request. The ratios compare requests/s with the baseline app and with pgbench at
the same C.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and not __package__:
    # Run as a script, this file's directory comes first on sys.path and this module would
    # be imported as the standard library's `http` by everything below.
    sys.exit("run it as a module: uv run python -m bench.http")

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import msgspec
import psycopg
from litestar import Litestar, post
from psycopg import sql
from psycopg_pool import ConnectionPool

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "trail_bench_http"
PASSWORD = "bench password 1"
TAGS = ("backend", "frontend", "db", "ops", "docs")
PRIORITIES = ("low", "medium", "high", "urgent")
SCENARIOS = ("create", "update", "read-list", "read-one", "mixed")
BASELINE_TABLE = "bench_baseline"
PGBENCH_TABLE = "bench_pgbench"
STARTUP_TIMEOUT = 60.0


# --------------------------------------------------------------------------- the baseline app


class BaselineBody(msgspec.Struct, forbid_unknown_fields=True):
    project_id: UUID
    title: str


def create_baseline_app() -> Litestar:
    """uvicorn factory of the reference app: decode a small JSON body, INSERT one row."""
    pool: ConnectionPool[Any] = ConnectionPool(
        os.environ["BENCH_DATABASE_URL"], min_size=2, max_size=16, open=True,
        kwargs={"autocommit": True},
    )

    @post("/baseline", sync_to_thread=True)
    def insert(data: BaselineBody) -> dict[str, int]:
        with pool.connection() as conn:
            row = conn.execute(
                f"INSERT INTO {BASELINE_TABLE} (project_id, title) VALUES (%s, %s) RETURNING id",
                (data.project_id, data.title),
                prepare=True,
            ).fetchone()
        assert row is not None
        return {"id": row[0]}

    return Litestar([insert], on_shutdown=[lambda: pool.close()])


# --------------------------------------------------------------------------- a small HTTP client


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection: far cheaper per request than a general client, so
    the load generator takes less of the machine from the server it measures."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = msgspec.json.encode(body) if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("connection closed")
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        content = await self.reader.readexactly(length) if length else b""
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


# --------------------------------------------------------------------------- scenarios


@dataclass
class Seeded:
    projects: list[str]
    tickets: list[str]
    # Each ticket's status as the updates left it, carried from one scenario to the next.
    status: dict[str, str] = field(default_factory=dict)


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_example: str = ""


class User:
    """One closed-loop client: its own connection and, for updates, its own tickets."""

    def __init__(self, conn: Connection, seeded: Seeded, mine: list[str], samples: Samples,
                 rng: random.Random) -> None:
        self.conn, self.seeded, self.mine, self.samples, self.rng = (
            conn, seeded, mine, samples, rng)
        self.turn = 0

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> bytes:
        started = time.perf_counter()
        status, content = await self.conn.request(method, path, body)
        self.samples.latencies.append(time.perf_counter() - started)
        if status != expect:
            self.samples.errors += 1
            self.samples.error_example = f"{method} {path} -> {status} {content[:200]!r}"
        return content

    async def create(self) -> None:
        await self.call("POST", "/tickets", {
            "project_id": self.rng.choice(self.seeded.projects),
            "title": f"Bench ticket {self.rng.randrange(10**9)}",
            "description": "Created by bench/http.py",
            "priority": self.rng.choice(PRIORITIES),
            "tags": [self.rng.choice(TAGS)],
        }, expect=201)

    async def update(self) -> None:
        ticket = self.mine[self.turn % len(self.mine)]
        self.turn += 1
        target = "in_progress" if self.seeded.status.get(ticket, "open") == "open" else "open"
        await self.call("PATCH", f"/tickets/{ticket}", {"status": target})
        self.seeded.status[ticket] = target
        await self.call("POST", f"/tickets/{ticket}/comments",
                        {"body": f"Status now {target}"}, expect=201)

    async def read_list(self) -> None:
        project = self.rng.choice(self.seeded.projects)
        query = self.rng.choice((
            f"project_id={project}&status=open",
            f"priority={self.rng.choice(PRIORITIES)}&sort=-updated_at",
            f"tag={self.rng.choice(TAGS)}&sort=priority",
            f"project_id={project}&sort=due_date",
        ))
        await self.call("GET", f"/tickets?{query}&limit=25")

    async def read_one(self) -> None:
        ticket = self.rng.choice(self.seeded.tickets)
        await self.call("GET", f"/tickets/{ticket}")
        await self.call("GET", f"/tickets/{ticket}/history")

    async def mixed(self) -> None:
        roll = self.rng.random()
        if roll < 0.35:
            await self.read_list()
        elif roll < 0.70:
            await self.read_one()
        elif roll < 0.90:
            await self.update()
        else:
            await self.create()

    def operation(self, scenario: str) -> Callable[[], Awaitable[None]]:
        return {"create": self.create, "update": self.update, "read-list": self.read_list,
                "read-one": self.read_one, "mixed": self.mixed}[scenario]


async def _drive(host: str, port: int, token: str | None, concurrency: int, seconds: float,
                 make_op: Callable[[Connection, int, Samples], Callable[[], Awaitable[None]]]
                 ) -> tuple[Samples, float]:
    samples = Samples()
    connections = [Connection(host, port, token) for _ in range(concurrency)]
    operations = [make_op(c, n, samples) for n, c in enumerate(connections)]
    # One untimed round opens the connections and warms the server's pools.
    await asyncio.gather(*(op() for op in operations))
    samples.latencies.clear()
    samples.errors = 0
    deadline = time.perf_counter() + seconds

    async def loop(op: Callable[[], Awaitable[None]]) -> None:
        while time.perf_counter() < deadline:
            await op()

    started = time.perf_counter()
    await asyncio.gather(*(loop(op) for op in operations))
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return samples, elapsed


@dataclass
class Result:
    workload: str
    concurrency: int
    requests_per_second: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    note: str = ""


def _result(workload: str, concurrency: int, samples: Samples, elapsed: float) -> Result:
    latencies = sorted(samples.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Result(
        workload, concurrency, len(latencies) / elapsed, pct(0.50), pct(0.95), pct(0.99),
        samples.errors, samples.error_example,
    )


def run_scenario(host: str, port: int, token: str, seeded: Seeded, scenario: str,
                 concurrency: int, seconds: float, mine: list[list[str]]) -> Result:
    def make(conn: Connection, n: int, samples: Samples) -> Callable[[], Awaitable[None]]:
        return User(conn, seeded, mine[n], samples, random.Random(n)).operation(scenario)

    samples, elapsed = asyncio.run(_drive(host, port, token, concurrency, seconds, make))
    return _result(scenario, concurrency, samples, elapsed)


def run_baseline(host: str, port: int, project: str, concurrency: int, seconds: float) -> Result:
    def make(conn: Connection, n: int, samples: Samples) -> Callable[[], Awaitable[None]]:
        user = User(conn, Seeded([project], []), [], samples, random.Random(n))
        body = {"project_id": project, "title": "Bench ticket 123456789"}

        async def insert() -> None:
            await user.call("POST", "/baseline", body, expect=201)

        return insert

    samples, elapsed = asyncio.run(_drive(host, port, None, concurrency, seconds, make))
    return _result("baseline app insert", concurrency, samples, elapsed)


def run_pgbench(database_url: str, concurrency: int, seconds: float) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(f"INSERT INTO {PGBENCH_TABLE} (project_id, title) "
                     "VALUES ('00000000-0000-4000-8000-000000000000', 'Bench ticket 123456789');\n")
    parts = urlsplit(database_url)
    command = [
        shutil.which("pgbench") or "pgbench", "-n", "-c", str(concurrency),
        "-j", str(min(concurrency, os.cpu_count() or 1)), "-T", str(int(max(1, seconds))),
        "-f", script.name, "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", parts.username or "postgres", parts.path.lstrip("/"),
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        os.unlink(script.name)
    found = re.search(r"tps = ([0-9.]+)", run.stdout)
    if run.returncode != 0 or found is None:
        # A shared server may refuse C more connections; the rest of the run still counts.
        reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return Result("pgbench insert", concurrency, 0.0, errors=1, note=f"failed: {reason}")
    tps = float(found.group(1))
    output = run.stdout
    latency = re.search(r"latency average = ([0-9.]+) ms", output)
    return Result("pgbench insert", concurrency, tps,
                  note=f"latency average {latency.group(1)} ms" if latency else "")


# --------------------------------------------------------------------------- processes and data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def scratch_database(server_url: str, keep: bool) -> Iterator[str]:
    identifier = sql.Identifier(DATABASE)
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    url = _with_database(server_url, DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        for table in (BASELINE_TABLE, PGBENCH_TABLE):
            conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, project_id uuid, "
                         "title text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
    try:
        yield url
    finally:
        if not keep:
            with psycopg.connect(_with_database(server_url, "postgres"),
                                 autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    identifier))


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str], ready_url: str | None) -> Iterator[None]:
    child = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **env})
    try:
        if ready_url is not None:
            _wait_for(ready_url, child)
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_for(url: str, child: subprocess.Popen[bytes]) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{url} did not start (exit code {child.returncode})")
        try:
            status, _ = asyncio.run(_once(parts.hostname or "", parts.port or 80, parts.path))
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {STARTUP_TIMEOUT:.0f} s")


async def _once(host: str, port: int, path: str, method: str = "GET", body: Any = None,
                token: str | None = None) -> tuple[int, bytes]:
    conn = Connection(host, port, token)
    try:
        return await conn.request(method, path, body)
    finally:
        await conn.close()


def _call(port: int, method: str, path: str, body: Any = None, token: str | None = None,
          expect: int = 200) -> Any:
    status, content = asyncio.run(_once("127.0.0.1", port, path, method, body, token))
    if status != expect:
        raise RuntimeError(f"{method} {path}: {status} {content[:300]!r}")
    return msgspec.json.decode(content) if content else None


def seed(port: int, tickets: int, projects: int) -> tuple[str, Seeded]:
    """An admin-made developer, `projects` projects and `tickets` tickets; returns the
    developer's token. Tickets are created over HTTP at C=8 (which also warms the server)."""
    register = {"name": "Bench Admin", "email": "admin@bench.example", "password": PASSWORD}
    _call(port, "POST", "/auth/register", register, expect=201)
    admin = _call(port, "POST", "/auth/token", {"email": register["email"],
                                                "password": PASSWORD})["access_token"]
    developer = _call(port, "POST", "/auth/register", {
        "name": "Bench Developer", "email": "dev@bench.example", "password": PASSWORD},
        expect=201)
    _call(port, "PATCH", f"/users/{developer['id']}", {"role": "developer"}, admin)
    token = _call(port, "POST", "/auth/token", {"email": "dev@bench.example",
                                                "password": PASSWORD})["access_token"]
    project_ids = [
        _call(port, "POST", "/projects", {"name": f"Bench Project {n}"}, admin, 201)["id"]
        for n in range(projects)
    ]
    seeded = Seeded(project_ids, [])
    created: list[str] = []

    async def make() -> None:
        connections = [Connection("127.0.0.1", port, token) for _ in range(8)]
        rng = random.Random(7)

        async def worker(conn: Connection, share: int) -> None:
            for _ in range(share):
                status, content = await conn.request("POST", "/tickets", {
                    "project_id": rng.choice(project_ids), "title": "Seeded ticket",
                    "description": "seeded", "priority": rng.choice(PRIORITIES),
                    "tags": [rng.choice(TAGS)],
                    "due_date": f"2031-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                })
                if status != 201:
                    raise RuntimeError(f"seeding failed: {status} {content[:200]!r}")
                created.append(msgspec.json.decode(content)["id"])

        await asyncio.gather(*(worker(c, tickets // 8) for c in connections))
        for conn in connections:
            await conn.close()

    asyncio.run(make())
    seeded.tickets = created
    return token, seeded


def wait_for_projections(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = _call(port, "GET", "/health")
        if health["projections"] and all(p["lag"] == 0
                                         for p in health["projections"].values()):
            return
        time.sleep(0.5)
    raise RuntimeError("the projections did not catch up")


# --------------------------------------------------------------------------- report


def print_table(results: list[Result], concurrencies: list[int]) -> None:
    by_c = {c: {r.workload: r for r in results if r.concurrency == c} for c in concurrencies}
    print(f"{'workload':<20}{'C':>4}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'vs app':>8}{'vs pgbench':>11}{'errors':>8}")
    print("-" * 87)
    for c in concurrencies:
        rows = by_c[c]
        baseline = rows.get("baseline app insert")
        pgbench = rows.get("pgbench insert")
        for r in rows.values():
            def ratio(ref: Result | None, r: Result = r) -> str:
                if ref is None or not ref.requests_per_second:
                    return "-"
                return f"{r.requests_per_second / ref.requests_per_second:.2f}"

            def ms(v: float | None) -> str:
                return f"{v:.2f}" if v is not None else "-"

            print(f"{r.workload:<20}{c:>4}{r.requests_per_second:>9.0f}{ms(r.p50_ms):>9}"
                  f"{ms(r.p95_ms):>9}{ms(r.p99_ms):>9}{ratio(baseline):>8}{ratio(pgbench):>11}"
                  f"{r.errors:>8}  {r.note}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", default="1,8,16")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, both apps")
    parser.add_argument("--tickets", type=int, default=2000, help="tickets to seed")
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--no-references", action="store_true",
                        help="skip the baseline app and pgbench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    results: list[Result] = []
    print(f"# {platform.node()} {platform.platform()} {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {args.workers} uvicorn worker(s), "
          f"{args.seconds:g} s per row", flush=True)

    with scratch_database(args.server_url, args.keep) as database_url:
        from runtime.migrate import migrate

        migrate(database_url)
        env = {"DATABASE_URL": database_url, "REDIS_URL": args.redis_url,
               "TRAIL_SECRET_KEY": "bench-secret-key-" + "x" * 48,
               "TRAIL_DATA_DIR": tempfile.mkdtemp(prefix="trail-bench-")}
        port, base_port = _free_port(), _free_port()
        api = [sys.executable, "-m", "uvicorn", "runtime.cli_api:app_from_environment",
               "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers",
               str(args.workers), "--no-proxy-headers", "--no-access-log",
               "--log-level", "warning"]
        baseline = [sys.executable, "-m", "uvicorn", "bench.http:create_baseline_app",
                    "--factory", "--host", "127.0.0.1", "--port", str(base_port),
                    "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"]
        projector = [sys.executable, "-m", "runtime.cli", "projector"]
        references = (contextlib.nullcontext() if args.no_references else
                      process(baseline, {"BENCH_DATABASE_URL": database_url},
                              f"http://127.0.0.1:{base_port}/baseline"))
        with (process(projector, env, None),
              process(api, env, f"http://127.0.0.1:{port}/health"), references):
            token, seeded = seed(port, args.tickets, args.projects)
            wait_for_projections(port)
            print(f"# seeded {len(seeded.tickets)} tickets in {len(seeded.projects)} projects",
                  flush=True)
            for c in concurrencies:
                # The references run next to the scenarios of the same C, so that a machine
                # whose load changes during the run skews the ratios as little as it can.
                first = len(results)
                if not args.no_references:
                    results.append(run_baseline("127.0.0.1", base_port, seeded.projects[0], c,
                                                args.seconds))
                # Each connection updates its own tickets only.
                mine = [seeded.tickets[n::c] for n in range(c)]
                for scenario in scenarios:
                    results.append(run_scenario("127.0.0.1", port, token, seeded, scenario, c,
                                                args.seconds, mine))
                if not args.no_references:
                    results.append(run_pgbench(database_url, c, args.seconds))
                for result in results[first:]:
                    print(f"  {result.workload:<20} C={c:<3} {result.requests_per_second:8.0f}"
                          f" req/s  errors {result.errors}", flush=True)

    print()
    print_table(results, concurrencies)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))


if __name__ == "__main__":
    main()
