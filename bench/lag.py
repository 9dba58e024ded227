"""Projection lag and the email backlog, for bench/http.py, read with plain SQL.

A poller thread reads `SELECT name, position FROM projection_versions` every ~5 ms on its own
connection and keeps (when the answer arrived, each projection's position). A write answered at
`t` with `Trail-Position` `p` has lag = the first poll at or after `t` in which every projection
(or one, for the per-projection figures) had reached `p`, minus `t`. Positions only grow, so the
first such poll is found by bisection.
"""

from __future__ import annotations

import bisect
import threading
import time
from typing import Any

import psycopg

POLL_INTERVAL = 0.005


class LagPoller:
    def __init__(self, database_url: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.backend_pid: int = self.conn.info.backend_pid
        self.times: list[float] = []
        self.positions: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT name, position FROM projection_versions",
                                 prepare=True).fetchall()
        return {str(name): int(position) for name, position in rows}

    def start(self) -> None:
        self.times, self.positions = [], []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lag-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            positions = self.poll()
            self.times.append(time.monotonic())
            self.positions.append(positions)
            self._stop.wait(POLL_INTERVAL)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def reached(self, position: int) -> bool:
        """Whether the last poll saw every projection at `position` or past it."""
        return bool(self.positions) and min(self.positions[-1].values()) >= position

    def close(self) -> None:
        self.stop()
        self.conn.close()

    # ----------------------------------------------------------------------- figures

    def lags(self, writes: list[tuple[float, int]], name: str | None = None
             ) -> tuple[list[float], int]:
        """Lag in ms of each write (all projections, or `name` only), and how many writes no
        poll saw processed."""
        if name is None:
            reached = [min(p.values()) if p else 0 for p in self.positions]
        else:
            reached = [p.get(name, 0) for p in self.positions]
        # Positions only grow; a rebuild switching versions mid-run would break this.
        for n in range(1, len(reached)):
            reached[n] = max(reached[n], reached[n - 1])
        lags: list[float] = []
        missing = 0
        for answered, position in writes:
            first = max(bisect.bisect_left(self.times, answered),
                        bisect.bisect_left(reached, position))
            if first >= len(self.times):
                missing += 1
            else:
                lags.append((self.times[first] - answered) * 1000)
        return lags, missing

    def names(self) -> list[str]:
        return sorted(self.positions[-1]) if self.positions else []


def outbox_backlog(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """(emails not yet sent and not failed, emails failed) in the `outbox` view."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE status <> 'failed'), "
        "count(*) FILTER (WHERE status = 'failed') "
        "FROM outbox WHERE status <> 'sent'"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]
