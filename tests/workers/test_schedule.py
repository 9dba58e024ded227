"""Scheduled jobs run on their trigger, and never twice at the same time across workers."""

from __future__ import annotations

import threading
import time

import psycopg

from workers.schedule import JOB_LOCK_CLASS, Job, Schedule


def test_a_job_runs_on_its_trigger_and_one_at_a_time(scratch_database_url: str) -> None:
    running, overlaps, runs = 0, 0, 0
    lock = threading.Lock()
    finished = threading.Event()

    def slow() -> None:
        nonlocal running, overlaps, runs
        with lock:
            running += 1
            overlaps += running > 1
        time.sleep(0.6)
        with lock:
            running -= 1
            runs += 1
            if runs >= 2:
                finished.set()

    # Two workers' schedules firing the same job every 0.2 s: turns overlap on purpose.
    schedules = [
        Schedule(scratch_database_url, [Job("slow", slow, "interval", {"seconds": 0.2})])
        for _ in range(2)
    ]
    for schedule in schedules:
        schedule.start()
    try:
        assert finished.wait(20), "the job never ran twice"
    finally:
        for schedule in schedules:
            schedule.stop()
    assert overlaps == 0


def test_a_failing_job_is_reported_and_tried_again(scratch_database_url: str) -> None:
    calls = 0
    again = threading.Event()

    def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls >= 2:
            again.set()
        raise RuntimeError("boom")

    schedule = Schedule(scratch_database_url, [Job("flaky", flaky, "interval", {"seconds": 0.2})])
    schedule.start()
    try:
        assert again.wait(20)
    finally:
        schedule.stop()
    with psycopg.connect(scratch_database_url, autocommit=True) as conn:
        held = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (JOB_LOCK_CLASS,),
        ).fetchone()
    assert held == (0,), "a failed run left its lock behind"
