"""The relay: hands due outbox rows to the broker and marks them queued.

It wakes on the outbox's NOTIFY (sent when rows are written, re-queued or released) and otherwise
polls every `relay_interval`, which is when retries come due and lost messages and the attempts
of dead workers are noticed. While an SMTP outage defers emails it releases one of them every
`outage_probe` seconds, so the backlog goes out soon after the server is back even when no new
email comes along to show it (see projections/outbox/attempts.py).
Messages are enqueued inside the transaction that marks the rows queued: if Redis fails halfway,
the rows stay pending, and a worker that got a message early waits for the commit on the row
lock (see workers/actors.py).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from uuid import UUID

import psycopg
import redis
from dramatiq.brokers.redis import RedisBroker

from projections.outbox import CHANNEL, attempts, rows
from workers.broker import send_email_message
from workers.config import Delivery

log = logging.getLogger("trail.email.relay")

# Pause after a database or Redis error before trying again.
ERROR_PAUSE = 1.0
# A worker sends a message's emails one after the other: a command's few, not a backlog's.
EMAILS_PER_MESSAGE = 10


class Relay:
    def __init__(self, database_url: str, broker: RedisBroker, settings: Delivery) -> None:
        self.database_url = database_url
        self.broker = broker
        self.settings = settings
        self._stopping = threading.Event()
        self._probed_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="trail-email-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._serve()
            except (psycopg.Error, redis.RedisError) as error:
                log.warning("relay: %s; trying again in %.0fs", error, ERROR_PAUSE)
                self._stopping.wait(ERROR_PAUSE)

    def _serve(self) -> None:
        with (
            psycopg.connect(self.database_url, autocommit=True) as listener,
            psycopg.connect(self.database_url) as conn,
        ):
            listener.execute(f"LISTEN {CHANNEL}")
            while not self._stopping.is_set():
                self._probe(conn)
                if self.relay_once(conn) == self.settings.relay_batch:
                    continue  # a backlog: keep going without waiting
                # One notification is enough: the next pass takes every due row.
                for _ in listener.notifies(timeout=self.settings.relay_interval, stop_after=1):
                    pass

    def _probe(self, conn: psycopg.Connection[Any]) -> None:
        if time.monotonic() - self._probed_at < self.settings.outage_probe:
            return
        self._probed_at = time.monotonic()
        with conn.transaction():
            attempts.probe_outage(conn)

    def relay_once(self, conn: psycopg.Connection[Any]) -> int:
        """Hand one batch of due rows to the broker, a message per command; returns how many
        rows."""
        with conn.transaction():
            due = rows.due_rows(
                conn, requeue_after=self.settings.requeue_after, limit=self.settings.relay_batch
            )
            for email_ids in by_command(due):
                self.broker.enqueue(send_email_message(email_ids, self.settings))
            if due:
                rows.mark_queued(conn, [email_id for email_id, _ in due])
        return len(due)


def by_command(due: list[tuple[UUID, int | None]]) -> list[list[str]]:
    """The due rows as messages: the consecutive rows of one command (its position) share one,
    up to `EMAILS_PER_MESSAGE`; an email of no command goes alone. One message per command
    halved what each email cost the worker and the database: its attempt and its outcome are
    recorded for all the command's emails at once."""
    messages: list[list[str]] = []
    last: int | None = None
    for email_id, position in due:
        if position is None or position != last or len(messages[-1]) >= EMAILS_PER_MESSAGE:
            messages.append([])
        messages[-1].append(str(email_id))
        last = position
    return messages
