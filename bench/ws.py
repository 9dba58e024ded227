"""Live updates benchmark: 1,000 idle WebSockets plus a steady command rate against a running
system; delivery latency from commit to a subscribed socket, and memory per idle socket.

    uv run python bench/ws.py --idle 1000 --rate 50 --seconds 30

Processes, as in production: `trail projector` and one `trail api` (uvicorn, one worker), each
its own process on 127.0.0.1, on a fresh database `trail_bench_ws` (created and dropped on
--server-url) and a Redis db of its own; this driver is a third process with every client in
one asyncio loop.

1. Seeds an admin, a developer, a reporter, a project and --tickets tickets.
2. Opens --idle sockets as the reporter, each authenticated and subscribed to `notifications`
   (nothing the load does concerns the reporter), and reads the API process's RSS before and
   after: memory per idle socket = the difference / --idle, once the process has settled.
3. Opens --watchers sockets as the developer, subscribed to the project.
4. Sends --rate title changes per second for --seconds (open loop: each at its scheduled time)
   spread over the tickets, and times every frame each watcher receives.

Commit time is when PostgreSQL delivered the write side's NOTIFY for the event to a listener of
this driver (its own connection, which then reads the head of the log): the moment any follower
could know of it. Latency = frame received by a watcher - commit time of its position; a frame
that does not arrive within 10 s of the end counts as lost. The run stops by itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from multiprocessing.queues import Queue  # noqa: E402
from multiprocessing.synchronize import Event  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import httpx  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from runtime.migrate import migrate  # noqa: E402

DATABASE = "trail_bench_ws"
REPO = _HERE.parent
PASSWORD = "bench password 1"
# Time allowed after the load for the last frames to arrive.
DRAIN = 10.0
SPAWN = multiprocessing.get_context("spawn")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def database(server_url: str) -> Iterator[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    url = _with_database(server_url, DATABASE)
    migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(DATABASE)))


@contextmanager
def system(database_url: str, redis_url: str, ws: str, deflate: str
           ) -> Iterator[tuple[str, int]]:
    """`trail projector` and `trail api` (one process); yields the API's URL and pid."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "TRAIL_SECRET_KEY": secrets.token_urlsafe(48), "TRAIL_DATA_DIR": "/tmp/trail-bench-ws"}
    projector = subprocess.Popen([sys.executable, "-m", "runtime.cli", "projector"], cwd=REPO,
                                 env=env)
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "runtime.cli_api:app_from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-proxy-headers", "--ws", ws, "--ws-per-message-deflate", deflate],
        cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the API did not start")
        yield url, api.pid
    finally:
        for process in (api, projector):
            process.terminate()
        for process in (api, projector):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def listen_for_commits(url: str, ready: Event, stopping: Event, out: Queue) -> None:
    """In its own process, free of the driver's GIL: the time PostgreSQL delivered the write
    side's NOTIFY for each position (LISTEN, then read the head of the log)."""
    at: dict[int, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LISTEN trail_events")
        head = _head(conn)
        ready.set()
        while not stopping.is_set():
            woken = False
            for _ in conn.notifies(timeout=0.5, stop_after=1):
                woken = True
            if not woken:
                continue
            now = time.monotonic()
            new = _head(conn)
            for position in range(head + 1, new + 1):
                at[position] = now
            head = max(head, new)
    out.put(at)


def _head(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM trail_events").fetchone()
    return int(row[0]) if row else 0


@contextmanager
def commits(url: str) -> Iterator[dict[int, float]]:
    """The commit time of every position while the block runs, filled in when it ends."""
    ready, stopping, out = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    listener = SPAWN.Process(target=listen_for_commits, args=(url, ready, stopping, out))
    listener.start()
    ready.wait(30)
    at: dict[int, float] = {}
    try:
        yield at
    finally:
        stopping.set()
        at.update(out.get(timeout=30))
        listener.join(timeout=10)


def seed(url: str, tickets: int) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as http:
        def register(name: str, email: str) -> str:
            response = http.post("/auth/register", json={"name": name, "email": email,
                                                          "password": PASSWORD})
            response.raise_for_status()
            user_id: str = response.json()["id"]
            return user_id

        def login(email: str) -> str:
            response = http.post("/auth/token", json={"email": email, "password": PASSWORD})
            response.raise_for_status()
            token: str = response.json()["access_token"]
            return token

        register("Bench Admin", "admin@bench.example")
        developer = register("Bench Developer", "dev@bench.example")
        register("Bench Reporter", "reporter@bench.example")
        admin = {"Authorization": f"Bearer {login('admin@bench.example')}"}
        http.patch(f"/users/{developer}", headers=admin, json={"role": "developer"})
        project = http.post("/projects", headers=admin, json={"name": "Live bench"}).json()
        ids = [http.post("/tickets", headers=admin, json={
            "project_id": project["id"], "title": f"ticket {i}"}).json()["id"]
            for i in range(tickets)]
        return {"admin": admin, "developer": login("dev@bench.example"),
                "reporter": login("reporter@bench.example"), "project": project["id"],
                "tickets": ids}


async def open_socket(ws_url: str, token: str, topic: str) -> ClientConnection:
    connection = await connect(ws_url, open_timeout=60, max_queue=None)
    await connection.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await connection.recv())["type"] == "ready"
    await connection.send(json.dumps({"type": "subscribe", "topics": [topic]}))
    assert json.loads(await connection.recv())["type"] == "subscribed"
    return connection


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


async def settled_rss(pid: int) -> int:
    """The process's RSS once it stops moving (two readings a second apart within 1%)."""
    last = rss(pid)
    for _ in range(30):
        await asyncio.sleep(1.0)
        now = rss(pid)
        if abs(now - last) <= last * 0.01:
            return now
        last = now
    return last


async def watch(connection: ClientConnection, received: dict[int, list[float]]) -> None:
    async for raw in connection:
        frame = json.loads(raw)
        if frame.get("type") == "event":
            received.setdefault(frame["position"], []).append(time.monotonic())


async def load(url: str, seeded: dict[str, Any], rate: float, seconds: float,
               sent: dict[int, float]) -> int:
    """Title changes at `rate` per second for `seconds`, open loop; returns the failures."""
    tickets = seeded["tickets"]
    failures = 0
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=seeded["admin"],
                                 limits=limits) as http:
        async def one(n: int) -> None:
            nonlocal failures
            started = time.monotonic()
            response = await http.patch(f"/tickets/{tickets[n % len(tickets)]}",
                                        json={"title": f"change {n}"})
            if response.status_code != 200:
                failures += 1
                return
            sent[int(response.headers["Trail-Position"])] = started

        begin, tasks = time.monotonic(), []
        for n in range(int(rate * seconds)):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace, url: str, pid: int, database_url: str
              ) -> dict[str, Any]:
    seeded = seed(url, args.tickets)
    ws_url = url.replace("http://", "ws://") + "/ws"
    base = await settled_rss(pid)
    idle: list[ClientConnection] = []
    for start in range(0, args.idle, 100):
        idle += await asyncio.gather(*(open_socket(ws_url, seeded["reporter"], "notifications")
                                       for _ in range(start, min(start + 100, args.idle))))
    loaded = await settled_rss(pid)
    watchers = [await open_socket(ws_url, seeded["developer"], f"project:{seeded['project']}")
                for _ in range(args.watchers)]
    received: dict[int, list[float]] = {}
    readers = [asyncio.create_task(watch(w, received)) for w in watchers]
    sent: dict[int, float] = {}
    with commits(database_url) as committed:
        failures = await load(url, seeded, args.rate, args.seconds, sent)
        deadline = time.monotonic() + DRAIN
        while time.monotonic() < deadline and any(
                len(received.get(p, ())) < args.watchers for p in sent):
            await asyncio.sleep(0.1)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(c.close() for c in [*idle, *watchers]), return_exceptions=True)
    latencies = [arrival - committed[p] for p in sent if p in committed
                 for arrival in received.get(p, ())]
    end_to_end = [arrival - sent[p] for p in sent for arrival in received.get(p, ())]
    lost = sum(args.watchers - len(received.get(p, ())) for p in sent)
    return {
        "idle_sockets": len(idle), "watchers": args.watchers, "commands": len(sent),
        "command_failures": failures, "frames": len(latencies), "lost_frames": lost,
        "commit_to_socket_ms": {"p50": 1000 * statistics.median(latencies),
                                "p99": 1000 * percentile(latencies, 0.99),
                                "max": 1000 * max(latencies)},
        "request_to_socket_ms": {"p50": 1000 * statistics.median(end_to_end),
                                 "p99": 1000 * percentile(end_to_end, 0.99)},
        "api_rss_mib": {"before_idle": base / 2**20, "with_idle": loaded / 2**20},
        "kib_per_idle_socket": (loaded - base) / 1024 / max(1, len(idle)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation")
    parser.add_argument("--deflate", default="false",
                        help="permessage-deflate (true/false; `trail api` turns it off)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.idle + 1024)), hard))
    with (database(args.server_url) as url,
          system(url, args.redis_url, args.ws, args.deflate) as (api_url, pid)):
        result = asyncio.run(asyncio.wait_for(run(args, api_url, pid, url),
                                              timeout=args.seconds + 300))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
