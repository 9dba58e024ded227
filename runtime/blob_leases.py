"""Leases on attachment blobs, as PostgreSQL advisory locks keyed by sha256: uploads and the
sweep of attachment bytes agree through them, whichever processes they run in.

An upload holds a shared lease from the moment its bytes are stored until its event is
recorded; the sweep deletes a blob only under the exclusive lease, which it tries for and never
waits on (a blob in use now is left for the next sweep). Session locks: a process that dies
releases its leases with its connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg.rows import tuple_row

# First key of these locks ("tb"), apart from the read side's ("tr") and the jobs' ("tj").
LOCK_CLASS = 0x7462

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class PostgresBlobLeases:
    def __init__(self, connect: Connect) -> None:
        """`connect` lends an autocommit connection (a pool's `connection`, or a fresh one)."""
        self._connect = connect

    @contextlib.contextmanager
    def holding(self, sha256: str) -> Iterator[None]:
        """Keeps the sweep off `sha256` while the block runs (waits out a deletion under way)."""
        with self._connect() as conn:
            conn.execute("SELECT pg_advisory_lock_shared(%s, hashtext(%s))", (LOCK_CLASS, sha256))
            try:
                yield
            finally:
                conn.execute(
                    "SELECT pg_advisory_unlock_shared(%s, hashtext(%s))", (LOCK_CLASS, sha256)
                )

    @contextlib.contextmanager
    def sweeping(self, sha256: str) -> Iterator[bool]:
        """The exclusive lease on `sha256` if no upload holds it now: whether the block may
        delete the blob."""
        with self._connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, sha256)
            ).fetchone()
            held = bool(row and row[0])
            try:
                yield held
            finally:
                if held:
                    conn.execute(
                        "SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS, sha256)
                    )
