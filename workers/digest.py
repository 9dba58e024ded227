"""The daily digest job: at `TRAIL_DIGEST_HOUR` UTC, one email per user who chose the digest,
listing the previous day's changes (`projections.outbox.digest`). The clock is injected, so
tests run any day's digest at will."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg

from projections.outbox.digest import write_digests
from workers.schedule import Job

JOB_NAME = "daily-digest"


def digest_job(database_url: str, *, hour: int, clock: Callable[[], datetime]) -> Job:
    def run() -> int:
        day = (clock() - timedelta(days=1)).date()
        with psycopg.connect(database_url, autocommit=True) as conn:
            return write_digests(conn, day)

    return Job(JOB_NAME, run, "cron", {"hour": hour, "minute": 0})
