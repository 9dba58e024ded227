"""`trail serve`: the whole system in one process tree, on embedded services by default."""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request

import click

from runtime.embedded import resolve_services
from runtime.migrate import migrate
from runtime.settings import secret_key_or_generate
from runtime.settings import settings as load_settings
from runtime.supervisor import ChildSpec, Supervisor, child_environment

READY_TIMEOUT = 120.0


def _announce_when_ready(url: str, stopping: threading.Event) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    click.echo(f"Trail is running at {url}  (API docs: {url}/docs)")
                    return
        except (urllib.error.URLError, OSError):
            pass
        stopping.wait(0.3)
    if not stopping.is_set():
        click.echo(f"Trail did not answer on {url}/health within {READY_TIMEOUT:.0f}s", err=True)


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default TRAIL_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (default TRAIL_PORT).")
def serve_command(host: str | None, port: int | None) -> None:
    """Run the API, projectors, notifier, an email worker and the webhook deliverer together."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    url = f"http://{host}:{port}"
    click.echo("Starting Trail…")
    with resolve_services(settings) as services:
        migrate(services.database_url)
        env = child_environment(
            {
                "DATABASE_URL": services.database_url,
                "REDIS_URL": services.redis_url,
                "TRAIL_SECRET_KEY": secret_key_or_generate(settings),
                "TRAIL_BASE_URL": settings.base_url or url,
            }
        )
        supervisor = Supervisor(
            [
                ChildSpec("api", ("api", "--host", host, "--port", str(port))),
                ChildSpec("projector", ("projector",)),
                ChildSpec("notifier", ("notifier",)),
                ChildSpec("worker", ("worker",)),
                ChildSpec("webhooks", ("webhooks",)),
            ],
            env,
        )
        threading.Thread(
            target=_announce_when_ready, args=(url, supervisor.stopping), daemon=True
        ).start()
        supervisor.run()
    click.echo("Trail stopped.")
