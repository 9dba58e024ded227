"""`trail webhooks`: the webhook deliveries follower and the deliverer."""

from __future__ import annotations

import logging

import click

from runtime import bootstrap
from runtime.embedded import resolve_services
from runtime.logs import configure_logging
from runtime.migrate import migrate
from runtime.outage import Stopped, until_available
from runtime.settings import settings as load_settings
from runtime.signals import stop_on_signals
from workers.follower_process import FollowerProcess

log = logging.getLogger("trail.webhooks")


@click.command("webhooks")
def webhooks_command() -> None:
    """Deliver the log's events to webhooks: signed, in order per webhook, retried."""
    settings = load_settings()
    configure_logging(settings.log_format)
    stopping = stop_on_signals()
    with resolve_services(settings) as services:
        url = services.database_url

        def start_up() -> FollowerProcess:
            migrate(url)
            return bootstrap.webhooks(settings, url)

        try:
            process = until_available(start_up, "webhooks", stopping)
        except Stopped:
            return
        process.start()
        log.info("webhook deliverer running")
        while not stopping.wait(0.5) and not process.stopping.is_set():
            pass
        process.stop()
    if process.error is not None:
        raise click.ClickException(f"the webhook deliveries follower stopped: {process.error}")
