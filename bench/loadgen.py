"""The load generator of bench/http.py: a small keep-alive HTTP/1.1 client and closed-loop users.

Each of C users owns one connection and sends its next request when the last one is answered.
A cell runs a warm-up, then the measured window; a request counts for the window when its answer
arrives inside it. Every answer's status is checked against what the request expects; writes
keep their `Trail-Position` and the moment their answer arrived, for the lag figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

TAGS = ("backend", "frontend", "db", "ops", "docs")
PRIORITIES = ("low", "medium", "high", "urgent")
REQUEST_TIMEOUT = 30.0  # a request that takes longer counts as an error (the bench never hangs)


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection: far cheaper per request than a general client, so
    the load generator takes less of the machine from the system it measures."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None
                      ) -> tuple[int, int | None, bytes]:
        """(status, Trail-Position or None, body); HttpError after REQUEST_TIMEOUT."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await self._request(method, path, body)
        except TimeoutError:
            await self.close()
            raise HttpError(f"no answer within {REQUEST_TIMEOUT:.0f} s") from None

    async def _request(self, method: str, path: str, body: Any) -> tuple[int, int | None, bytes]:
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
        length, chunked, position = 0, False, None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"trail-position":
                position = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            content = b""
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                content += await self.reader.readexactly(size + 2)
                content = content[:-2]
            await self.reader.readline()
        else:
            content = await self.reader.readexactly(length) if length else b""
        return status, position, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


async def once(port: int, method: str, path: str, body: Any = None,
               token: str | None = None) -> tuple[int, int | None, bytes]:
    conn = Connection("127.0.0.1", port, token)
    try:
        return await conn.request(method, path, body)
    finally:
        await conn.close()


def call(port: int, method: str, path: str, body: Any = None, token: str | None = None,
         expect: int = 200) -> Any:
    status, _, content = asyncio.run(once(port, method, path, body, token))
    if status != expect:
        raise RuntimeError(f"{method} {path}: {status} {content[:300]!r}")
    return msgspec.json.decode(content) if content else None


def call_status(port: int, path: str) -> int:
    return asyncio.run(once(port, "GET", path))[0]


def create_tickets(port: int, token: str, seeded: Seeded, count: int, users: int) -> list[str]:
    """Create `count` tickets over HTTP with `users` connections; returns their ids."""
    created: list[str] = []

    async def run() -> None:
        connections = [Connection("127.0.0.1", port, token) for _ in range(users)]

        async def one_user(conn: Connection, n: int, share: int) -> None:
            user = User(conn, seeded, [], Recorder(), random.Random(1000 + n))
            for _ in range(share):
                body = user.ticket_body("Seeded ticket")
                month, day = user.rng.randint(1, 12), user.rng.randint(1, 28)
                body["due_date"] = f"2031-{month:02d}-{day:02d}"
                status, _, content = await conn.request("POST", "/tickets", body)
                if status != 201:
                    raise RuntimeError(f"seeding failed: {status} {content[:300]!r}")
                created.append(msgspec.json.decode(content)["id"])

        shares = [count // users + (n < count % users) for n in range(users)]
        await asyncio.gather(*(one_user(c, n, shares[n]) for n, c in enumerate(connections)))
        for conn in connections:
            await conn.close()

    asyncio.run(run())
    return created


# --------------------------------------------------------------------------- recording


@dataclass
class Recorder:
    """Every answer of a cell, warm-up included, with the moment it arrived (time.monotonic)."""

    answers: list[tuple[float, float]] = field(default_factory=list)  # (arrived, latency s)
    writes: list[tuple[float, int]] = field(default_factory=list)  # (arrived, position)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (arrived, description)

    def in_window(self, start: float, end: float) -> tuple[list[float], list[tuple[float, int]],
                                                           list[str], int]:
        """(latencies, writes, errors) answered within [start, end], and errors outside it."""
        latencies = [lat for at, lat in self.answers if start <= at <= end]
        writes = [w for w in self.writes if start <= w[0] <= end]
        errors = [e for at, e in self.errors if start <= at <= end]
        return latencies, writes, errors, len(self.errors) - len(errors)


@dataclass
class Seeded:
    projects: list[str]
    tickets: list[str]
    developers: list[str]
    # Each ticket's status as the updates left it, carried from one cell to the next.
    status: dict[str, str] = field(default_factory=dict)


class User:
    """One closed-loop client: its own connection and, for updates, its own tickets."""

    def __init__(self, conn: Connection, seeded: Seeded, mine: list[str], rec: Recorder,
                 rng: random.Random) -> None:
        self.conn, self.seeded, self.mine, self.rec, self.rng = conn, seeded, mine, rec, rng
        self.turn = 0

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200,
                   write: bool = False) -> int:
        started = time.monotonic()
        try:
            status, position, content = await self.conn.request(method, path, body)
        except (OSError, HttpError, asyncio.IncompleteReadError, ValueError) as error:
            await self.conn.close()
            status, position, content = 0, None, repr(error).encode()
        arrived = time.monotonic()
        self.rec.answers.append((arrived, arrived - started))
        if status != expect:
            self.rec.errors.append((arrived, f"{method} {path} -> {status} {content[:200]!r}"))
        elif write and position is not None:
            self.rec.writes.append((arrived, position))
        return status

    def ticket_body(self, title: str) -> dict[str, Any]:
        return {
            "project_id": self.rng.choice(self.seeded.projects),
            "title": title,
            "description": "Created by bench/http.py",
            "priority": self.rng.choice(PRIORITIES),
            "tags": [self.rng.choice(TAGS)],
            # 1-3 assignees: each gets an email for every change of the ticket.
            "assignee_ids": self.rng.sample(self.seeded.developers, self.rng.randint(1, 3)),
        }

    async def create(self) -> None:
        body = self.ticket_body(f"Bench ticket {self.rng.randrange(10**9)}")
        await self.call("POST", "/tickets", body, expect=201, write=True)

    async def update(self) -> None:
        ticket = self.mine[self.turn % len(self.mine)]
        self.turn += 1
        target = "in_progress" if self.seeded.status.get(ticket, "open") == "open" else "open"
        status = await self.call("PATCH", f"/tickets/{ticket}", {"status": target}, write=True)
        if status in (200, 409):  # 409: it was in `target` already
            self.seeded.status[ticket] = target
        await self.call("POST", f"/tickets/{ticket}/comments", {"body": f"Status now {target}"},
                        expect=201, write=True)

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

    # The bare counterparts (bench/baseline.py).
    async def bare_insert(self) -> None:
        await self.call("POST", "/bare/tickets", self.ticket_body("Bench ticket 123456789"),
                        expect=201)

    async def bare_one(self) -> None:
        await self.call("GET", f"/bare/tickets/{self.rng.randint(1, len(self.seeded.tickets))}")

    async def bare_page(self) -> None:
        await self.call("GET", f"/bare/tickets?project_id={self.rng.choice(self.seeded.projects)}"
                        "&status=open&limit=25")

    def operation(self, scenario: str) -> Callable[[], Awaitable[None]]:
        return {
            "create": self.create, "update": self.update, "read-list": self.read_list,
            "read-one": self.read_one, "mixed": self.mixed, "bare-insert": self.bare_insert,
            "bare-one": self.bare_one, "bare-page": self.bare_page,
        }[scenario]


async def _drive(port: int, token: str | None, users: int, warmup: float, seconds: float,
                 make: Callable[[Connection, int], Callable[[], Awaitable[None]]],
                 at_start: Callable[[], None], at_end: Callable[[], None]
                 ) -> tuple[float, float]:
    connections = [Connection("127.0.0.1", port, token) for _ in range(users)]
    operations = [make(conn, n) for n, conn in enumerate(connections)]
    stopping = False

    async def loop(op: Callable[[], Awaitable[None]]) -> None:
        while not stopping:
            await op()

    tasks = [asyncio.create_task(loop(op)) for op in operations]
    await asyncio.sleep(warmup)
    start = time.monotonic()
    at_start()
    await asyncio.sleep(seconds)
    end = time.monotonic()
    at_end()
    stopping = True
    await asyncio.gather(*tasks)
    for conn in connections:
        await conn.close()
    return start, end


def run_cell(port: int, token: str | None, seeded: Seeded, scenario: str, users: int,
             warmup: float, seconds: float, rec: Recorder,
             at_start: Callable[[], None], at_end: Callable[[], None]) -> tuple[float, float]:
    """Run `scenario` with `users` closed-loop users: `warmup` s, then `at_start()`, the window
    of `seconds`, `at_end()`. Returns the window's (start, end) in time.monotonic()."""
    # Each user updates its own tickets only, so no conflict is artificial.
    mine = [seeded.tickets[n::users] for n in range(users)]

    def make(conn: Connection, n: int) -> Callable[[], Awaitable[None]]:
        return User(conn, seeded, mine[n], rec, random.Random(n)).operation(scenario)

    return asyncio.run(_drive(port, token, users, warmup, seconds, make, at_start, at_end))
