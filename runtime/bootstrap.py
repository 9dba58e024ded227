"""The composition root: every part of every Trail process is built here, from settings and the
resolved service URLs. The CLI only parses options and calls these; tests call them with their
own overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import psycopg
from litestar import Litestar
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool
from redis import Redis

from api.app import create_app
from api.services import ApiServices, ApiSettings
from blobstore import BlobStore, open_blob_store
from commands.attachments import AttachmentStorage
from commands.base import Trail
from commands.logins import LoginLimiter
from commands.services import Commands, build_commands, utc_now
from commands.throttles import Throttle
from outbound.addresses import AddressPolicy
from outbound.client import Caller
from outbound.sealing import Sealer
from projections.catalog import READ_MODELS
from projections.outbox import Outbox
from projections.outbox.rows import enqueue_password_reset
from projections.rebuild import install
from projections.runner import Runner
from projections.webhooks import WebhookRouter
from runtime.blob_leases import PostgresBlobLeases
from runtime.delivery_env import delivery_from_env, webhook_delivery_from_env
from runtime.embedded import postgres_env
from runtime.links import Links
from runtime.logs import litestar_logging
from runtime.migrate import migration_ids
from runtime.settings import Settings, secret_key_or_generate
from web.app import create_web
from web.services import WebServices, WebSettings
from workers.broker import make_broker
from workers.config import Delivery, WebhookDelivery
from workers.digest import digest_job
from workers.follower_process import FollowerProcess
from workers.relay import Relay
from workers.render import Renderer
from workers.schedule import Job, Schedule
from workers.sweep import AttachmentSweep
from workers.transports import make_transport
from workers.webhooks import Deliverer
from workers.worker import EmailWorker

API_POOL_MAX_SIZE = 16
EVENT_STORE_POOL_WAIT = 0.3
# A pool tries to replace a connection after 1, 2, 4, 8 … s (psycopg_pool's backoff) until this
# bound, then gives up and the next request starts afresh: without it, after an outage of a
# minute the pools stayed empty for up to another minute once the database was back.
POOL_RECONNECT_TIMEOUT = 5.0


def blob_store(settings: Settings) -> BlobStore:
    """Where attachment bytes live (`TRAIL_BLOB_URL`, `TRAIL_DATA_DIR/blobs` by default)."""
    return open_blob_store(settings.blob_url, settings.data_dir)


def commands(
    settings: Settings,
    database_url: str,
    *,
    attachments: AttachmentStorage | None = None,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], UUID] = uuid4,
) -> Commands:
    """The write side. Its tables exist already: `runtime.migrate` runs before any process."""
    store = Trail(postgres_env(database_url))
    # The library tries each read and write of the event store 10 times, 0.2 s apart, each
    # waiting this long for a pooled connection (its setting takes whole seconds only): a
    # command that cannot reach the database fails after about 5 s in all, and the API answers
    # 503 with Retry-After. A connection a restarted server dropped is simply one failed try.
    store.datastore.pool.timeout = EVENT_STORE_POOL_WAIT
    store.datastore.pool.reconnect_timeout = POOL_RECONNECT_TIMEOUT
    return build_commands(
        store,
        clock=clock,
        new_id=new_id,
        registration=settings.registration,
        sealer=Sealer(secret_key_or_generate(settings)),
        url_guard=AddressPolicy(allow_private=settings.webhook_allow_private),
        attachments=attachments,
    )


def api_services(settings: Settings, database_url: str, redis_url: str) -> ApiServices:
    """Everything the API needs, connected; `close_api_services` closes it."""
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        database_url,
        connection_class=Connection[DictRow],
        min_size=2,
        max_size=API_POOL_MAX_SIZE,
        kwargs={"row_factory": dict_row, "autocommit": True,
                "connect_timeout": settings.db_timeout},
        name="trail-api",
        # A request waits this long for a connection, then answers 503 (api/errors.py).
        timeout=settings.db_timeout,
        reconnect_timeout=POOL_RECONNECT_TIMEOUT,
        open=True,
    )
    links = Links.of(settings)
    storage = AttachmentStorage(
        blobs=blob_store(settings),
        max_bytes=settings.max_upload_bytes,
        leases=PostgresBlobLeases(pool.connection),
    )

    def send_password_reset(*, user_id: UUID, email: str, name: str, token: str) -> None:
        # Through the outbox, like every email: retried, and visible to admins if it fails.
        with pool.connection() as conn:
            enqueue_password_reset(conn, user_id, email, name, token,
                                   links.password_reset(token))

    return ApiServices(
        commands=commands(settings, database_url, attachments=storage),
        pool=pool,
        # Bounded, so a Redis that went away answers 503 (and /health "broker: down") at once.
        redis=Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5),
        settings=ApiSettings(
            secret_key=secret_key_or_generate(settings),
            cors_origins=settings.cors_origins,
            migrations=migration_ids(),
            max_upload_bytes=settings.max_upload_bytes,
            registrations_per_address=settings.registrations_per_hour,
            redis_namespace=settings.redis_namespace,
        ),
        send_password_reset=send_password_reset,
        blobs=storage.blobs,
    )


def close_api_services(services: ApiServices) -> None:
    services.pool.close()
    services.redis.close()
    services.commands.close()


def web_services(settings: Settings, api: ApiServices) -> WebServices:
    """The web app on the API's own pieces: one write side, one pool, one Redis, the same login
    limits and the same password-reset email."""
    limits = api.settings

    def throttle(name: str, limit: int) -> Throttle:
        return Throttle(api.redis, name=name, limit=limit, window=limits.throttle_window,
                        namespace=limits.redis_namespace)

    return WebServices(
        commands=api.commands,
        pool=api.pool,
        redis=api.redis,
        limiter=LoginLimiter(
            api.redis,
            per_email=limits.login_failures_per_email,
            per_address=limits.login_failures_per_address,
            window=limits.login_window,
            namespace=limits.redis_namespace,
        ),
        settings=WebSettings(
            secret_key=limits.secret_key,
            base_url=settings.base_url,
            registration=settings.registration,
            min_position_timeout=limits.min_position_timeout,
            redis_namespace=limits.redis_namespace,
        ),
        send_password_reset=api.send_password_reset,
        registrations=throttle("registrations", limits.registrations_per_address),
        resets_by_address=throttle("resets-by-address", limits.resets_per_address),
        resets_by_email=throttle("resets-by-email", limits.resets_per_email),
    )


def api_app(settings: Settings, database_url: str, redis_url: str) -> Litestar:
    """The API and, at `/`, the web app: one process answers both."""
    services = api_services(settings, database_url, redis_url)
    app = create_app(services, litestar_logging(settings.log_format),
                     mount=create_web(web_services(settings, services)))
    app.on_shutdown.append(lambda: close_api_services(services))
    return app


def projector_env(database_url: str) -> dict[str, str]:
    return postgres_env(database_url)


# Emails and webhooks may leave 20 ms later; under load their followers then read a few
# commands per batch instead of one (docs/PERFORMANCE.md). Read models never linger: a client's
# `Trail-Min-Position` waits on them.
FOLLOWER_LINGER = 0.02


def notifier(
    settings: Settings, database_url: str, redis_url: str, delivery: Delivery | None = None
) -> FollowerProcess:
    """The outbox follower and its relay; `.start()` runs them in this process."""
    delivery = delivery or delivery_from_env()
    env = postgres_env(database_url)
    # The tables first, so the relay never looks for an outbox that is not there yet.
    install(Outbox, env)
    broker = make_broker(redis_url, delivery)
    runner = Runner(Outbox, env, linger=FOLLOWER_LINGER)
    return FollowerProcess(runner, Relay(database_url, broker, delivery),
                           what="the outbox follower", on_stop=broker.close)


def webhooks(
    settings: Settings, database_url: str, delivery: WebhookDelivery | None = None
) -> FollowerProcess:
    """The deliveries follower and the deliverer; `.start()` runs them in this process."""
    delivery = delivery or webhook_delivery_from_env(settings)
    env = postgres_env(database_url)
    install(WebhookRouter, env)
    caller = Caller(AddressPolicy(allow_private=delivery.allow_private), delivery.timeout)
    deliverer = Deliverer(
        database_url, caller, Sealer(secret_key_or_generate(settings)), delivery
    )
    return FollowerProcess(Runner(WebhookRouter, env, linger=FOLLOWER_LINGER), deliverer,
                           what="the webhook deliveries follower")


def email_worker(
    settings: Settings, database_url: str, redis_url: str, delivery: Delivery | None = None
) -> EmailWorker:
    """A Dramatiq worker for the email queue; `.start()` runs it in this process."""
    delivery = delivery or delivery_from_env()
    return EmailWorker(
        redis_url=redis_url,
        database_url=database_url,
        transport=make_transport(settings.smtp_url, settings.data_dir, delivery.smtp_timeout),
        renderer=Renderer(mail_from=settings.mail_from, ticket_link=Links.of(settings).ticket),
        settings=delivery,
    )


def schedule(settings: Settings, database_url: str) -> Schedule:
    """The jobs every worker runs on a schedule (one at a time across workers)."""
    return Schedule(database_url, scheduled_jobs(settings, database_url))


def scheduled_jobs(
    settings: Settings, database_url: str, *, clock: Callable[[], datetime] = utc_now
) -> list[Job]:
    sweep = attachment_sweep(settings, database_url)
    return [
        Job("attachments-sweep", sweep.run_logged, "cron", {"minute": 17}),
        digest_job(database_url, hour=settings.digest_hour, clock=clock),
    ]


def attachment_sweep(
    settings: Settings, database_url: str, *, clock: Callable[[], datetime] = utc_now
) -> AttachmentSweep:
    """Removes attachment bytes no attachment needs (`trail attachments sweep`, and hourly in
    every worker)."""
    return AttachmentSweep(
        blob_store(settings),
        database_url,
        PostgresBlobLeases(lambda: psycopg.connect(database_url, autocommit=True)),
        retention=timedelta(days=settings.attachment_retention_days),
        clock=clock,
    )


__all__ = [
    "READ_MODELS",
    "api_app",
    "api_services",
    "attachment_sweep",
    "blob_store",
    "close_api_services",
    "commands",
    "delivery_from_env",
    "email_worker",
    "notifier",
    "projector_env",
    "web_services",
    "webhook_delivery_from_env",
    "webhooks",
]
