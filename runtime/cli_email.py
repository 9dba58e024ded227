"""Email processes and their shell commands: `trail notifier`, `trail worker`, `trail emails`."""

from __future__ import annotations

import logging
from uuid import UUID

import click
import msgspec
import psycopg

from projections.outbox.rows import retry_email, retry_emails
from runtime import bootstrap
from runtime.embedded import resolve_services
from runtime.logs import configure_logging
from runtime.migrate import migrate
from runtime.outage import Stopped, until_available
from runtime.settings import settings as load_settings
from runtime.signals import stop_on_signals
from workers.follower_process import FollowerProcess

log = logging.getLogger("trail.email")


@click.command("notifier")
def notifier_command() -> None:
    """Write outbox rows for ticket changes and hand them to the email workers."""
    settings = load_settings()
    configure_logging(settings.log_format)
    stopping = stop_on_signals()
    with resolve_services(settings) as services:
        urls = services.database_url, services.redis_url

        def start_up() -> FollowerProcess:
            migrate(urls[0])
            return bootstrap.notifier(settings, *urls)

        try:
            notifier = until_available(start_up, "notifier", stopping)
        except Stopped:
            return
        notifier.start()
        log.info("notifier running")
        while not stopping.wait(0.5) and not notifier.stopping.is_set():
            pass
        notifier.stop()
    if notifier.error is not None:
        raise click.ClickException(f"the outbox projection stopped: {notifier.error}")


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Emails sent at once (default TRAIL_WORKER_THREADS or 8).")
def worker_command(threads: int | None) -> None:
    """Send queued emails (a Dramatiq worker for the email actor) and run the scheduled jobs."""
    settings = load_settings()
    configure_logging(settings.log_format)
    delivery = bootstrap.delivery_from_env()
    if threads is not None:
        delivery = msgspec.structs.replace(delivery, worker_threads=threads)
    stopping = stop_on_signals()
    with resolve_services(settings) as services:
        worker = bootstrap.email_worker(
            settings, services.database_url, services.redis_url, delivery
        )
        jobs = bootstrap.schedule(settings, services.database_url)
        worker.start()
        jobs.start()
        log.info("email worker running with %d threads", delivery.worker_threads)
        stopping.wait()
        jobs.stop()
        worker.stop()


@click.group("emails")
def emails_group() -> None:
    """Inspect and re-queue outgoing emails."""


@emails_group.command("retry")
@click.option("--failed", is_flag=True, help="Also re-queue emails that exhausted their tries.")
@click.argument("ids", nargs=-1, type=click.UUID)
def retry_command(failed: bool, ids: tuple[UUID, ...]) -> None:
    """Send waiting emails now instead of at their next retry, or only the emails IDS."""
    settings = load_settings()
    with resolve_services(settings) as services, psycopg.connect(services.database_url) as conn:
        if ids:
            unknown = [str(i) for i in ids if not retry_email(conn, i)]
            if unknown:
                raise click.ClickException(f"no such email: {', '.join(unknown)}")
            click.echo(f"re-queued {len(ids)} email(s)")
        else:
            click.echo(f"re-queued {retry_emails(conn, include_failed=failed)} email(s)")
