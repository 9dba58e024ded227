"""The `send_email` actor: delivers one outbox row, and does nothing for a row already done.

Each attempt is recorded before the email goes out (`projections.outbox.attempts`), and the row
stays locked from then until its outcome commits: a duplicate message (relay re-enqueue, Redis
redelivery) waits or finds the row taken and does nothing, and the relay hands a row over again
only once its worker is gone. The one window left is a crash after the server accepted the email
and before the commit; the row is then sent again, with the same Message-ID.

A database that cannot be reached is not the email's fault: the message is retried within
seconds (`DatabaseUnavailable`, see workers/broker.py), never counted as an attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

import dramatiq
import jinja2
import msgspec
import psycopg
from dramatiq.brokers.redis import RedisBroker
from psycopg_pool import ConnectionPool

from projections.outbox import attempts
from workers.broker import ACTOR_NAME, DatabaseUnavailable
from workers.config import Delivery
from workers.outage import DATABASE_DOWN
from workers.render import Renderer
from workers.transports import PermanentError, TransientError, Transport

log = logging.getLogger("trail.email")

# How long a message waits for a row lock (the workers' connections' lock_timeout): long
# enough for the relay's hand-over to commit; a row locked longer than that is being sent by
# another worker, which will finish it.
LOCK_WAIT_MS = 5_000

# A send that works releases the rows an outage deferred; once a second per process is plenty
# (the release is one UPDATE, and the backlog then goes out through the relay).
RELEASE_EVERY = 1.0


class Mailer:
    def __init__(
        self,
        pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]],
        transport: Transport,
        renderer: Renderer,
        settings: Delivery,
    ) -> None:
        self.pool = pool
        self.transport = transport
        self.renderer = renderer
        self.settings = settings
        self._released_at = 0.0
        self._release_lock = threading.Lock()

    def send_email(self, email_id: str) -> None:
        try:
            with self.pool.connection() as conn:
                attempt = attempts.begin(conn, UUID(email_id), self.settings.max_attempts)
                if attempt is None:
                    return
                with conn.transaction():
                    if attempts.hold(conn, attempt):
                        self._deliver(conn, attempt)
        except psycopg.errors.LockNotAvailable:
            log.info("email %s is being sent by another worker", email_id)
        except DATABASE_DOWN as error:
            # A recorded attempt left unconfirmed is handed over again by the relay, with the
            # same Message-ID; a message retried meanwhile finds it taken.
            log.warning("email %s: the database is unavailable (%s); retrying soon",
                        email_id, error)
            raise DatabaseUnavailable(str(error)) from error

    def _deliver(self, conn: psycopg.Connection[tuple[object, ...]],
                 attempt: attempts.Attempt) -> None:
        try:
            message = self.renderer.render(attempt.id, attempt.subject, attempt.payload(),
                                           attempt.position)
            self.transport.send(message)
        except (PermanentError, jinja2.TemplateError, msgspec.ValidationError) as error:
            # Waiting would not change the answer (5xx, or a template that cannot render).
            log.error("email %s failed for good: %s", attempt.id, error)
            attempts.mark_failed(conn, attempt.id, str(error))
        except TransientError as error:
            self._deferred(conn, attempt, error)
        else:
            attempts.mark_sent(conn, attempt.id)
            self._release_deferred(conn)

    def _deferred(self, conn: psycopg.Connection[tuple[object, ...]],
                  attempt: attempts.Attempt, error: TransientError) -> None:
        if attempt.attempts >= self.settings.max_attempts and not (attempt.early
                                                                   and error.outage):
            log.error("email %s failed after %d attempts: %s", attempt.id, attempt.attempts,
                      error)
            attempts.mark_failed(conn, attempt.id, str(error))
            return
        delay = self.settings.backoff(attempt.attempts)
        log.warning("email %s attempt %d failed (%s); next try in %.0fs",
                    attempt.id, attempt.attempts, error, delay)
        attempts.mark_retry(conn, attempt, str(error), delay, error.outage)

    def _release_deferred(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        with self._release_lock:
            now = time.monotonic()
            if now - self._released_at < RELEASE_EVERY:
                return
            self._released_at = now
        released = attempts.release_deferred(conn)
        if released:
            log.info("the mail server is back: %d deferred email(s) are due now", released)


def declare_send_email(broker: RedisBroker, mailer: Mailer) -> dramatiq.Actor[[str], None]:
    """Bind the actor to `broker` (no global broker: each process builds its own)."""
    return dramatiq.Actor(
        mailer.send_email,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=mailer.settings.queue_name,
        priority=0,
        options={},
    )
