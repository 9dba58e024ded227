"""`trail api`: the HTTP API alone, under uvicorn; and the wiring of its services.

`trail serve` and production both start the API through this command. With several workers,
uvicorn runs each in its own process, and each builds its own services through
`create_app_from_environment`; the parent resolves the database and Redis URLs (starting
embedded ones when unset) and the secret key once, and hands them down in the environment.
"""

from __future__ import annotations

import logging
import os
from uuid import UUID

import click
import uvicorn
from litestar import Litestar
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool
from redis import Redis

from api.app import create_app
from api.services import ApiServices, ApiSettings
from projections.outbox import enqueue_password_reset
from runtime.embedded import resolve_services
from runtime.settings import Settings, secret_key_or_generate
from runtime.settings import settings as load_settings
from runtime.wiring import build_trail

log = logging.getLogger("trail.api")

# Measured in docs/PERFORMANCE.md ("HTTP API"): one worker per core is where throughput stops
# growing on the reference machine.
DEFAULT_WORKERS = 1
POOL_MAX_SIZE = 16


def build_api_services(settings: Settings, database_url: str, redis_url: str) -> ApiServices:
    """Everything the API needs, connected; the caller owns closing it (`close_api_services`)."""
    trail = build_trail(settings, database_url)
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        database_url,
        connection_class=Connection[DictRow],
        min_size=2,
        max_size=POOL_MAX_SIZE,
        kwargs={"row_factory": dict_row, "autocommit": True},
        name="trail-api",
        open=True,
    )
    base_url = settings.base_url or f"http://{settings.host}:{settings.port}"

    def send_password_reset(*, user_id: UUID, email: str, name: str, token: str) -> None:
        # Through the outbox, like every email: retried, and visible to admins if it fails.
        with pool.connection() as conn:
            enqueue_password_reset(
                conn, user_id, email, name, token, f"{base_url}/docs#/auth/confirmPasswordReset"
            )

    return ApiServices(
        trail=trail,
        pool=pool,
        redis=Redis.from_url(redis_url),
        settings=ApiSettings(secret_key=secret_key_or_generate(settings)),
        send_password_reset=send_password_reset,
    )


def close_api_services(services: ApiServices) -> None:
    services.pool.close()
    services.redis.close()
    services.trail.close()


def create_app_from_environment() -> Litestar:
    """uvicorn's app factory: settings, URLs and the secret key come from the environment."""
    settings = load_settings()
    if not settings.database_url or not settings.redis_url:
        raise click.UsageError("DATABASE_URL and REDIS_URL must be set (`trail api` sets them)")
    services = build_api_services(settings, settings.database_url, settings.redis_url)
    app = create_app(services)
    app.on_shutdown.append(lambda: close_api_services(services))
    return app


@click.command("api")
@click.option("--host", default=None, help="Interface to listen on (default TRAIL_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (default TRAIL_PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=DEFAULT_WORKERS,
              show_default=True, help="Worker processes.")
def api_command(host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API."""
    settings = load_settings()
    with resolve_services(settings) as services:
        # Children read these: each worker process builds its own services from them.
        os.environ["DATABASE_URL"] = services.database_url
        os.environ["REDIS_URL"] = services.redis_url
        os.environ["TRAIL_SECRET_KEY"] = secret_key_or_generate(settings)
        uvicorn.run(
            "runtime.cli_api:create_app_from_environment",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            # Client addresses key the login limits: never take them from a header a client
            # could set. Behind a proxy, run uvicorn with --forwarded-allow-ips yourself.
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=5,
            log_level="info",
        )
