"""The webhook deliverer: sends each webhook's deliveries, one at a time and in order, signed as
Standard Webhooks has it, and records how each attempt went.

A dispatcher thread wakes on the follower's NOTIFY (or every `poll_interval`, when retries come
due), finds the webhooks whose next delivery is due, and hands each to a pool of threads; a
webhook already in hand in this process is not handed over twice, and `next_due`'s row lock keeps
other deliverer processes off it. A slow or failing webhook occupies one thread and holds back
no other webhook.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg_pool import ConnectionPool
from standardwebhooks.webhooks import Webhook as Signer

from eventlog.audit import log_entries
from outbound.client import Caller, CallFailed
from outbound.sealing import Sealer, Unsealable
from projections.webhooks import CHANNEL, rows
from workers.config import WebhookDelivery

log = logging.getLogger("trail.webhooks")

USER_AGENT = "Trail-Webhooks/1"
ERROR_PAUSE = 1.0
_encoder = msgspec.json.Encoder()


class Deliverer:
    def __init__(
        self, database_url: str, caller: Caller, sealer: Sealer, settings: WebhookDelivery
    ) -> None:
        self.database_url = database_url
        self.caller = caller
        self.sealer = sealer
        self.settings = settings
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            database_url, min_size=1, max_size=settings.threads + 1, open=False,
            name="trail-webhooks",
        )
        self._executor = ThreadPoolExecutor(settings.threads, thread_name_prefix="webhook")
        self._in_hand: set[UUID] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-dispatch", daemon=True)

    def start(self) -> None:
        self.pool.open(wait=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join()
        self._executor.shutdown(wait=True)
        self.pool.close()
        self.caller.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._serve()
            except psycopg.Error as error:
                log.warning("webhook dispatch: %s; trying again in %.0fs", error, ERROR_PAUSE)
                self._stopping.wait(ERROR_PAUSE)

    def _serve(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            while not self._stopping.is_set():
                self.dispatch()
                # A finished attempt may leave its webhook's next delivery due at once.
                if self._wake.wait(0):
                    self._wake.clear()
                    continue
                for _ in listener.notifies(timeout=self.settings.poll_interval, stop_after=1):
                    pass

    def dispatch(self) -> None:
        """Hand every webhook with a delivery due now to a thread (those not in hand yet)."""
        with self.pool.connection() as conn:
            due = rows.due_webhooks(conn, limit=self.settings.threads * 4)
        for webhook_id in due:
            with self._lock:
                if webhook_id in self._in_hand or len(self._in_hand) >= self.settings.threads:
                    continue
                self._in_hand.add(webhook_id)
            self._executor.submit(self._attempt_guarded, webhook_id)

    def _attempt_guarded(self, webhook_id: UUID) -> None:
        try:
            self.attempt(webhook_id)
        except Exception:
            log.exception("webhook %s: the attempt could not be recorded", webhook_id)
        finally:
            with self._lock:
                self._in_hand.discard(webhook_id)
            self._wake.set()

    def attempt(self, webhook_id: UUID) -> None:
        """One attempt at the webhook's next delivery, if it is due, under its row lock."""
        with self.pool.connection() as conn, conn.transaction():
            due = rows.next_due(conn, webhook_id)
            if due is None:
                return
            attempts = due.attempts + 1
            status, error = self._send(conn, due)
            if status is not None and 200 <= status < 300:
                rows.mark_delivered(conn, due.id, attempts, status)
            elif attempts >= self.settings.max_attempts:
                log.error("webhook %s delivery %s failed after %d attempts: %s",
                          webhook_id, due.id, attempts, error)
                rows.mark_failed(conn, due.id, attempts, status, error)
            else:
                delay = self.settings.backoff(attempts)
                log.warning("webhook %s delivery %s attempt %d failed (%s); next in %.0fs",
                            webhook_id, due.id, attempts, error, delay)
                rows.mark_retry(conn, due.id, attempts, status, error, delay)

    def _send(self, conn: psycopg.Connection[Any], due: rows.Due) -> tuple[int | None, str]:
        """(status code, error) of one POST; no status when there was no answer."""
        entries = log_entries(conn.cursor(row_factory=psycopg.rows.dict_row),
                              after=due.position - 1, limit=1)
        if not entries or entries[0].position != due.position:
            return None, f"position {due.position} is not in the log"
        body = _encoder.encode(entries[0]).decode()
        try:
            secret = self.sealer.open(due.sealed_secret or "")
        except Unsealable as error:
            return None, str(error)
        sent_at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": str(due.id),
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Signer(secret).sign(str(due.id), sent_at, body),
        }
        try:
            answer = self.caller.post(due.url, body.encode(), headers)
        except CallFailed as error:
            return None, str(error)
        if 200 <= answer.status < 300:
            return answer.status, ""
        return answer.status, f"HTTP {answer.status}: {answer.excerpt}".strip()
