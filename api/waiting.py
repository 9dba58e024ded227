"""Waiting for `Trail-Min-Position` without holding a pooled connection.

One thread per API process LISTENs on `trail_projections` on a connection of its own and keeps
every read model's position in memory; a request that must wait sleeps on a condition the
thread wakes with each NOTIFY. A waiting request then holds a thread and nothing of the
database, so readers waiting for a position cannot starve the pool every other request needs
(20 waiters once held 20 pooled connections, and an admin's GET waited 14 s). Each caller may
have only a few requests waiting at once: past that, 429 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextvars import ContextVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from api.errors import Problem
from projections.base import HOME_SCHEMA, POSITIONS_CHANNEL

log = logging.getLogger("trail.api")

# Who the request is for (its user, else its client address): the waiters are counted per
# caller. Set by the API's `before_request` hook.
caller: ContextVar[str] = ContextVar("trail_min_position_caller", default="anonymous")

# Requests of one caller that may wait at once; a client reading its own writes needs one or
# two.
WAITERS_PER_CALLER = 4
# The listener reads every position again this often while anyone waits, in case a NOTIFY was
# missed (a reconnect, a blue/green switch).
REFRESH_EVERY = 1.0
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)

_POSITIONS = sql.SQL("SELECT name, position FROM {}").format(
    sql.Identifier(HOME_SCHEMA, "projection_versions")
)


class PositionWaits:
    def __init__(self, conninfo: str | Callable[[], str], *,
                 per_caller: int = WAITERS_PER_CALLER) -> None:
        self._conninfo = conninfo
        self._per_caller = per_caller
        self._changed = threading.Condition()
        self._positions: dict[str, int] = {}
        # False until the listener has read the positions on its current connection: until
        # then the memory may be behind what a NOTIFY it never got would have said.
        self._current = False
        self._waiting: Counter[str] = Counter()
        # The waits of requests on the event loop: each wakes on any change, and looks.
        self._wakers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening (once); returns at once."""
        with self._changed:
            self._spawn()

    def reached(self, names: Iterable[str], position: int) -> bool:
        """Whether every model `names` has processed `position`, as last heard (in a thread:
        the first call waits for the listener's first reading)."""
        with self._changed:
            self._start()
            return self._reached(set(names), position)

    def wait(self, who: str, names: Iterable[str], position: int, timeout: float) -> bool:
        """Whether every model `names` reached `position` within `timeout` seconds, waiting
        in this thread; 429 when `who` already has its share of requests waiting."""
        wanted = set(names)
        deadline = time.monotonic() + timeout
        with self._changed:
            self._start()
            if self._reached(wanted, position):
                return True
            if timeout <= 0:
                return False
            self._enter(who)
            try:
                while not self._reached(wanted, position):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                return True
            finally:
                self._leave(who)

    async def wait_async(
        self, who: str, names: Iterable[str], position: int, timeout: float
    ) -> bool:
        """`wait` for a request on the event loop: the wait holds no thread either."""
        wanted = set(names)
        deadline = time.monotonic() + timeout
        woken = asyncio.Event()
        waker = (asyncio.get_running_loop(), woken)
        with self._changed:
            if self._reached(wanted, position):
                return True
            if timeout <= 0:
                return False
            self._enter(who)
            self._wakers.add(waker)
        try:
            while True:
                with self._changed:
                    if self._reached(wanted, position):
                        return True
                    woken.clear()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), remaining)
        finally:
            with self._changed:
                self._wakers.discard(waker)
                self._leave(who)

    def _enter(self, who: str) -> None:
        if self._waiting[who] >= self._per_caller:
            raise Problem(
                429,
                f"at most {self._per_caller} requests of one caller may wait for "
                "Trail-Min-Position at once",
                kind="too-many-requests",
                headers={"Retry-After": "1"},
            )
        self._waiting[who] += 1

    def _leave(self, who: str) -> None:
        self._waiting[who] -= 1
        if not self._waiting[who]:
            del self._waiting[who]

    def _wake(self) -> None:
        """Wake every waiter (called with the condition held)."""
        self._changed.notify_all()
        for loop, woken in self._wakers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(woken.set)

    def _reached(self, names: set[str], position: int) -> bool:
        return self._current and all(self._positions.get(n, 0) >= position for n in names)

    def _start(self) -> None:
        """Start listening, and wait for the first reading rather than report a position
        not reached merely because nothing was read yet (called with the condition held)."""
        self._spawn()
        self._changed.wait_for(lambda: self._current, timeout=2.0)

    def _spawn(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="trail-positions",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        failures = 0
        while True:
            try:
                self._listen()
            except psycopg.Error:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                log.warning("position listener lost the database; again in %.1f s", delay)
                failures += 1
                with self._changed:
                    self._current = False
                time.sleep(delay)

    def _listen(self) -> None:
        conninfo = self._conninfo() if callable(self._conninfo) else self._conninfo
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))
            # Read after LISTEN: a commit in between is then either read here or notified.
            self._read(conn)
            refreshed = time.monotonic()
            while True:
                for note in conn.notifies(timeout=REFRESH_EVERY, stop_after=1):
                    self._note(note.payload)
                if time.monotonic() - refreshed >= REFRESH_EVERY:
                    with self._changed:
                        anyone = bool(self._waiting)
                    if anyone:
                        self._read(conn)
                    refreshed = time.monotonic()

    def _read(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        try:
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(_POSITIONS).fetchall()
        except psycopg.errors.UndefinedTable:
            rows = []
        with self._changed:
            for row in rows:
                name, at = str(row["name"]), int(row["position"])
                self._positions[name] = max(self._positions.get(name, 0), at)
            self._current = True
            self._wake()

    def _note(self, payload: str) -> None:
        # "<name>[,<name>…]:<position>": a projector publishes its models at once.
        names, _, at = payload.rpartition(":")
        if not at.isdigit():
            return
        with self._changed:
            for name in names.split(","):
                self._positions[name] = max(self._positions.get(name, 0), int(at))
            self._wake()
