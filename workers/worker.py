"""An in-process Dramatiq worker for the email queue (used by `trail worker` and `trail serve`)."""

from __future__ import annotations

import psycopg
from dramatiq import Worker
from psycopg_pool import ConnectionPool

from workers.actors import LOCK_WAIT_MS, Mailer, declare_send_email
from workers.broker import make_broker
from workers.config import Delivery
from workers.render import Renderer
from workers.transports import Transport

# Milliseconds a stopping worker waits for the emails it is sending right now.
STOP_TIMEOUT_MS = 30_000
# Seconds a message waits for a connection before it counts as a database outage (and is
# retried shortly, see workers/broker.py).
POOL_TIMEOUT = 5.0
# psycopg_pool retries a lost connection after 1, 2, 4 … s until this bound, then the next
# message starts afresh: after a long outage the pool comes back within seconds.
POOL_RECONNECT_TIMEOUT = 5.0


class EmailWorker:
    def __init__(
        self,
        *,
        redis_url: str,
        database_url: str,
        transport: Transport,
        renderer: Renderer,
        settings: Delivery,
    ) -> None:
        self.transport = transport
        self.broker = make_broker(redis_url, settings)
        # One connection per thread: each holds its row's lock for the length of a send. The
        # lock wait is a connection option, which spares a SET round trip per email.
        self.pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]] = ConnectionPool(
            database_url,
            min_size=1,
            max_size=settings.worker_threads,
            kwargs={"options": f"-c lock_timeout={LOCK_WAIT_MS}"},
            timeout=POOL_TIMEOUT,
            reconnect_timeout=POOL_RECONNECT_TIMEOUT,
            # A connection from before a database restart is found dead before it is used,
            # at the cost of a round trip per email (nothing next to the SMTP conversation).
            check=ConnectionPool.check_connection,
            open=False,
        )
        declare_send_email(self.broker, Mailer(self.pool, transport, renderer, settings))
        self.worker = Worker(
            self.broker,
            worker_threads=settings.worker_threads,
            worker_timeout=settings.worker_poll_ms,
        )

    def start(self) -> None:
        # Not waiting for a first connection: a worker started while the database is away
        # connects once it is back, and its messages are retried until then.
        self.pool.open(wait=False)
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop(timeout=STOP_TIMEOUT_MS)
        self.broker.close()
        self.pool.close()
        self.transport.close()
