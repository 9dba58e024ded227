"""The `send_email` actor: delivers the outbox rows of one command, and does nothing for a row
already done.

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

    def send_email(self, *email_ids: str) -> None:
        """Deliver the outbox rows of one message: the emails of one command, whose attempts
        are recorded together and whose outcomes commit together."""
        named = ", ".join(email_ids)
        try:
            with self.pool.connection() as conn:
                begun = attempts.begin(conn, [UUID(i) for i in email_ids],
                                       self.settings.max_attempts)
                if not begun:
                    return
                with conn.transaction():
                    sent = [a.id for a in attempts.hold(conn, begun) if self._deliver(conn, a)]
                    attempts.mark_sent(conn, sent)
                if sent:
                    self._release_deferred(conn)
        except psycopg.errors.LockNotAvailable:
            log.info("email %s is being sent by another worker", named)
        except DATABASE_DOWN as error:
            # A recorded attempt left unconfirmed is handed over again by the relay, with the
            # same Message-ID; a message retried meanwhile finds it taken.
            log.warning("email %s: the database is unavailable (%s); retrying soon",
                        named, error)
            raise DatabaseUnavailable(str(error)) from error

    def _deliver(self, conn: psycopg.Connection[tuple[object, ...]],
                 attempt: attempts.Attempt) -> bool:
        """Send; True once sent (marked by the caller with the others), otherwise the outcome
        is recorded in the caller's transaction."""
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
            return True
        return False

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
        # In a transaction of its own, after the email's: whatever happens to the release (two
        # workers releasing at once may deadlock), the email stays recorded as sent.
        try:
            with conn.transaction():
                released = attempts.release_deferred(conn)
        except psycopg.Error as error:
            log.warning("could not release the emails an outage deferred: %s", error)
            return
        if released:
            log.info("the mail server is back: %d deferred email(s) are due now", released)


def declare_send_email(broker: RedisBroker, mailer: Mailer) -> dramatiq.Actor[..., None]:
    """Bind the actor to `broker` (no global broker: each process builds its own)."""
    return dramatiq.Actor(
        mailer.send_email,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=mailer.settings.queue_name,
        priority=0,
        options={},
    )
