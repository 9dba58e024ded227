"""Email processes and their shell commands: `trail notifier`, `trail worker`, `trail emails`.

`start_notifier` and `start_worker` run the same pieces inside any process (`trail serve`,
tests, the benchmark); the commands wrap them with signal handling and service discovery.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from types import FrameType
from uuid import UUID

import click
import msgspec
import psycopg
from dramatiq.brokers.redis import RedisBroker

from projections.outbox import Outbox, retry_email, retry_emails
from projections.rebuild import install
from projections.runner import Runner
from runtime.embedded import postgres_env, resolve_services
from runtime.settings import Settings, SettingsError
from runtime.settings import settings as load_settings
from workers.broker import make_broker
from workers.config import Delivery
from workers.relay import Relay
from workers.render import Renderer
from workers.transports import make_transport
from workers.worker import EmailWorker

log = logging.getLogger("trail.email")

# Delivery knobs from the environment, for operators (and for tests that run the processes).
_DELIVERY_ENV = {
    "TRAIL_EMAIL_MAX_ATTEMPTS": "max_attempts",
    "TRAIL_EMAIL_MIN_BACKOFF": "min_backoff",
    "TRAIL_EMAIL_MAX_BACKOFF": "max_backoff",
    "TRAIL_EMAIL_REQUEUE_AFTER": "requeue_after",
    "TRAIL_EMAIL_SMTP_TIMEOUT": "smtp_timeout",
    "TRAIL_EMAIL_RELAY_INTERVAL": "relay_interval",
    "TRAIL_EMAIL_NAMESPACE": "namespace",
    "TRAIL_WORKER_THREADS": "worker_threads",
}


def delivery_from_env(environ: Mapping[str, str] = os.environ) -> Delivery:
    """`Delivery` with each TRAIL_EMAIL_* / TRAIL_WORKER_THREADS variable that is set."""
    values = {
        field: environ[variable].strip()
        for variable, field in _DELIVERY_ENV.items()
        if environ.get(variable, "").strip()
    }
    try:
        # Not strict: numbers arrive as strings; constraints (>= 1, > 0) are checked here.
        return msgspec.convert(values, type=Delivery, strict=False)
    except msgspec.ValidationError as error:
        variables = {field: variable for variable, field in _DELIVERY_ENV.items()}
        raise SettingsError(_named(str(error), variables)) from None


def _named(message: str, variables: Mapping[str, str]) -> str:
    """msgspec names the field (`at `$.max_attempts``); operators set the variable."""
    for field, variable in variables.items():
        message = message.replace(f"`$.{field}`", variable)
    return message


def base_url(settings: Settings) -> str:
    return settings.base_url or f"http://{settings.host}:{settings.port}"


class Notifier:
    """The outbox projection (in its runner) and the relay, in threads of this process."""

    def __init__(self, database_url: str, broker: RedisBroker, delivery: Delivery) -> None:
        self.broker = broker
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.env = postgres_env(database_url)
        self.runner = Runner(Outbox, self.env)
        self.relay = Relay(database_url, broker, delivery)
        self._thread = threading.Thread(target=self._run, name="trail-notifier", daemon=True)

    def start(self) -> None:
        # The tables first, so the relay never looks for an outbox that is not there yet.
        install(Outbox, self.env)
        self._thread.start()
        self.relay.start()

    def _run(self) -> None:
        try:
            self.runner.run(self.stopping)
        except BaseException as error:
            # Kept for the command, which exits non-zero so its supervisor restarts it.
            self.error = error
            self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join()
        self.relay.stop()
        self.broker.close()


def start_notifier(
    database_url: str, redis_url: str, settings: Settings, delivery: Delivery | None = None
) -> Notifier:
    """Run the outbox projection and the relay in this process until `.stop()`."""
    delivery = delivery or delivery_from_env()
    notifier = Notifier(database_url, make_broker(redis_url, delivery), delivery)
    notifier.start()
    return notifier


def start_worker(
    redis_url: str, settings: Settings, database_url: str, delivery: Delivery | None = None
) -> EmailWorker:
    """Run a Dramatiq worker for the email queue in this process until `.stop()`."""
    delivery = delivery or delivery_from_env()
    worker = EmailWorker(
        redis_url=redis_url,
        database_url=database_url,
        transport=make_transport(settings.smtp_url, settings.data_dir, delivery.smtp_timeout),
        renderer=Renderer(mail_from=settings.mail_from, base_url=base_url(settings)),
        settings=delivery,
    )
    worker.start()
    return worker


def _stop_on_signals() -> threading.Event:
    stopping = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)
    return stopping


@click.command("notifier")
def notifier_command() -> None:
    """Write outbox rows for ticket changes and hand them to the email workers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    stopping = _stop_on_signals()
    with resolve_services(settings) as services:
        notifier = start_notifier(services.database_url, services.redis_url, settings)
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
    """Send queued emails (a Dramatiq worker for the email actor)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    delivery = delivery_from_env()
    if threads is not None:
        delivery = msgspec.structs.replace(delivery, worker_threads=threads)
    stopping = _stop_on_signals()
    with resolve_services(settings) as services:
        worker = start_worker(services.redis_url, settings, services.database_url, delivery)
        log.info("email worker running with %d threads", delivery.worker_threads)
        stopping.wait()
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
