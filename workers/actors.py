"""The `send_email` actor: delivers one outbox row, and does nothing for a row already done.

The row lock is held from the status check to the status update, across the send: a duplicate
message (relay re-enqueue, Redis redelivery) waits or finds the row sent and does nothing. The
one window left is a crash after the server accepted the email and before the commit; the
row is then sent again later, with the same Message-ID.
"""

from __future__ import annotations

import logging
from uuid import UUID

import dramatiq
import jinja2
import msgspec
import psycopg
from dramatiq.brokers.redis import RedisBroker
from psycopg_pool import ConnectionPool

from projections.outbox import rows
from workers.broker import ACTOR_NAME
from workers.config import Delivery
from workers.render import Renderer
from workers.transports import PermanentError, TransientError, Transport

log = logging.getLogger("trail.email")

# How long a message waits for a row lock (the workers' connections' lock_timeout): long
# enough for the relay's hand-over to commit; a row locked longer than that is being sent by
# another worker, which will finish it.
LOCK_WAIT_MS = 5_000


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

    def send_email(self, email_id: str) -> None:
        try:
            with self.pool.connection() as conn, conn.transaction():
                claimed = rows.claim(conn, UUID(email_id))
                if claimed is not None:
                    self._deliver(conn, claimed)
        except psycopg.errors.LockNotAvailable:
            log.info("email %s is being sent by another worker", email_id)

    def _deliver(self, conn: psycopg.Connection[tuple[object, ...]], row: rows.Claimed) -> None:
        attempts = row.attempts + 1
        try:
            message = self.renderer.render(row.id, row.subject, row.payload(), row.position)
            self.transport.send(message)
        except (PermanentError, jinja2.TemplateError, msgspec.ValidationError) as error:
            # Waiting would not change the answer (5xx, or a template that cannot render).
            log.error("email %s failed for good: %s", row.id, error)
            rows.mark_failed(conn, row.id, attempts, str(error))
        except TransientError as error:
            if attempts >= self.settings.max_attempts:
                log.error("email %s failed after %d attempts: %s", row.id, attempts, error)
                rows.mark_failed(conn, row.id, attempts, str(error))
            else:
                delay = self.settings.backoff(attempts)
                log.warning("email %s attempt %d failed (%s); next try in %.0fs",
                            row.id, attempts, error, delay)
                rows.mark_retry(conn, row.id, attempts, str(error), delay)
        else:
            rows.mark_sent(conn, row.id, attempts)


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
