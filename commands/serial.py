"""One decision at a time about a graph that spans several aggregates.

A new blocking link or parent is checked against cycles by walking other tickets, which the
save does not lock: two commands that each add one edge of a would-be cycle could both see none.
Such commands take a PostgreSQL advisory lock named after the graph for their whole
load-decide-save, so they decide one after the other. The lock is tried, not awaited, so a
waiter holds no pooled connection while it waits.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator

from eventsourcing.postgres import PostgresDatastore

from commands.errors import Conflict

# First key of the write side's advisory locks ("tc"), apart from the read side's ("tr").
LOCK_CLASS = 0x7463
WAIT = 5.0


@contextlib.contextmanager
def exclusively(datastore: PostgresDatastore, name: str, wait: float = WAIT) -> Iterator[None]:
    """Run the block while holding the lock `name`; Conflict after `wait` seconds without it."""
    deadline = time.monotonic() + wait
    pause = 0.001
    while True:
        # The lock lives as long as this transaction, which commits nothing: however the block
        # ends, even with the process, the lock goes with it.
        with datastore.transaction(commit=False) as cur:
            row = cur.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s)) AS locked",
                (LOCK_CLASS, name),
            ).fetchone()
            if row is not None and row["locked"]:
                yield
                return
        if time.monotonic() >= deadline:
            raise Conflict(f"too many changes to the {name} at once; try again")
        time.sleep(random.uniform(0, pause))
        pause = min(pause * 2, 0.05)
