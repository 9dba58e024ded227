"""A rebuild split across processes fails when any shard does, and its shards divide rows
between them the same way in Python and in SQL."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import uuid

import psycopg
import pytest
from psycopg.rows import DictRow

from projections.base import Shard
from projections.errors import ProjectionError
from projections.loading import _gather, stop_when_orphaned

Conn = psycopg.Connection[DictRow]


def test_a_shard_that_dies_fails_the_load() -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    dying = context.Process(target=sys.exit, args=(3,), name="notifications-shard-1")
    dying.start()
    try:
        with pytest.raises(ProjectionError, match=r"notifications-shard-1 died \(exit code 3\)"):
            _gather([dying], results)
    finally:
        dying.join()


def test_a_shard_that_fails_fails_the_load() -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    working = context.Process(target=time.sleep, args=(30,))
    working.start()
    try:
        results.put((1, 0, "OperationalError: the server closed the connection"))
        with pytest.raises(ProjectionError, match="shard 1 failed: OperationalError"):
            _gather([working], results)
    finally:
        working.terminate()
        working.join()


def test_every_key_is_in_exactly_one_shard_in_python_and_in_sql(conn: Conn) -> None:
    keys = [uuid.uuid4() for _ in range(200)]
    for parts in (2, 3):
        shards = [Shard(part, parts) for part in range(parts)]
        in_python = [[s.part for s in shards if s.holds(k)] for k in keys]
        assert all(len(held) == 1 for held in in_python)
        in_sql = [
            [s.part for s in shards if conn.execute(
                f"SELECT {s.sql('%s::uuid')} AS held", (k,)).fetchone() == {"held": True}]
            for k in keys
        ]
        assert in_sql == in_python
        assert {held[0] for held in in_python} == set(range(parts))


def test_a_shard_stops_once_the_rebuild_is_gone() -> None:
    stop_when_orphaned(os.getppid())(1000)
    with pytest.raises(ProjectionError, match="process is gone"):
        stop_when_orphaned(os.getppid() + 1)(1000)
