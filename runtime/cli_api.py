"""`trail api`: the HTTP API alone, under uvicorn.

With several workers, uvicorn runs each in its own process, and each builds its own services
through `app_from_environment`; the parent resolves the database and Redis URLs (starting
embedded ones when unset) and the secret key once, and hands them down in the environment.
"""

from __future__ import annotations

import os

import click
import uvicorn
from litestar import Litestar

from runtime import bootstrap
from runtime.embedded import resolve_services
from runtime.http_limits import PROTOCOL as HTTP_PROTOCOL
from runtime.logs import configure_logging
from runtime.migrate import migrate
from runtime.outage import until_available
from runtime.settings import secret_key_or_generate
from runtime.settings import settings as load_settings

# Measured in docs/PERFORMANCE.md ("HTTP API"): one worker per core is where throughput stops
# growing on the reference machine.
DEFAULT_WORKERS = 1


def app_from_environment() -> Litestar:
    """uvicorn's app factory: settings, URLs and the secret key come from the environment."""
    settings = load_settings()
    configure_logging(settings.log_format)
    if not settings.database_url or not settings.redis_url:
        raise click.UsageError("DATABASE_URL and REDIS_URL must be set (`trail api` sets them)")
    return bootstrap.api_app(settings, settings.database_url, settings.redis_url)


@click.command("api")
@click.option("--host", default=None, help="Interface to listen on (default TRAIL_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (default TRAIL_PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=DEFAULT_WORKERS,
              show_default=True, help="Worker processes.")
def api_command(host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API."""
    settings = load_settings()
    configure_logging(settings.log_format)
    # Below the log's followers (projector, notifier, worker, webhooks) when they share the
    # CPUs: saturated, a process with one busy thread got its turn behind the API's many, and
    # projections fell 110-150 ms behind; with the API at +5 they stay under 100 ms at the same
    # throughput (docs/PERFORMANCE.md). New requests wait instead of accepted work. The uvicorn
    # workers inherit it.
    os.nice(settings.api_niceness)
    with resolve_services(settings) as services:
        url = services.database_url
        until_available(lambda: migrate(url), "api")
        # Children read these: each worker process builds its own services from them.
        os.environ["DATABASE_URL"] = services.database_url
        os.environ["REDIS_URL"] = services.redis_url
        os.environ["TRAIL_SECRET_KEY"] = secret_key_or_generate(settings)
        uvicorn.run(
            "runtime.cli_api:app_from_environment",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            # Client addresses key the login limits: never take them from a header a client
            # could set. Behind a proxy, run uvicorn with --forwarded-allow-ips yourself.
            proxy_headers=False,
            server_header=False,
            # A request's head (request line and headers) is at most 16 KiB: 431 past it.
            http=HTTP_PROTOCOL,
            timeout_graceful_shutdown=5,
            # Live frames are small JSON: compressing them saves little, and each connection's
            # compressor costs about 40 KiB (docs/PERFORMANCE.md, "Live updates").
            ws_per_message_deflate=False,
            # A client's messages are small (auth, subscribe, ping): refuse anything larger.
            ws_max_size=64 * 1024,
            log_level="info",
            # Trail logs each request itself, with its request id (runtime/logs.py).
            access_log=False,
            log_config=None,
        )
