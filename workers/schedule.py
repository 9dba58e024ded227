"""Jobs that run on a schedule (the attachment sweep, the daily digest), inside every worker
process under APScheduler.

Several workers may run at once, so each run of a job first takes a PostgreSQL advisory lock
named after it: a job never runs twice at the same time, and a worker that finds it running
skips that turn. Jobs are idempotent (a digest is keyed by user and day, a sweep finds nothing
left to remove), so two workers running the same turn one after the other, or a run cut short by
a crash and run again at the next turn, change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("trail.schedule")

# First key of the job locks ("tj"), apart from the read side's ("tr").
JOB_LOCK_CLASS = 0x746A


@dataclass(frozen=True)
class Job:
    """`run` every time `trigger` fires; `trigger` is APScheduler's (`"interval"`, `"cron"`) with
    its arguments in `every`, e.g. `Job("sweep", sweep, "cron", {"minute": 17})`."""

    name: str
    run: Callable[[], Any]
    trigger: str
    every: Mapping[str, Any] = field(default_factory=dict)


class Schedule:
    def __init__(self, database_url: str, jobs: list[Job]) -> None:
        self.database_url = database_url
        self.jobs = jobs
        self._scheduler = BackgroundScheduler(timezone="UTC")
        for job in jobs:
            self._scheduler.add_job(
                self._run, job.trigger, args=(job,), id=job.name, name=job.name,
                # A late turn (the process was busy or stopped) runs once, not once per miss.
                coalesce=True, max_instances=1, misfire_grace_time=3600, **job.every,
            )

    def start(self) -> None:
        if self.jobs:
            self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _run(self, job: Job) -> None:
        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (JOB_LOCK_CLASS, job.name)
                ).fetchone()
                if not (row and row[0]):
                    return
                log.info("running %s", job.name)
                job.run()
        except Exception:
            # The next turn tries again; a job's own errors are its to report.
            log.exception("scheduled job %s failed", job.name)
