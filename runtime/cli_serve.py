"""`trail serve`: the whole system in one process tree, on embedded services by default.

It checks that its port is free before starting anything, says what it starts, announces the URL
once its own API child answers, restarts any child or embedded server that dies, gives up with
the child's last error lines when one keeps crashing at start, and stops cleanly on Ctrl-C or
SIGTERM: children first, then the embedded servers.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from types import FrameType

import click

from projections.base import ReadModel
from projections.catalog import READ_MODELS
from projections.outbox import Outbox
from projections.rebuild import install
from projections.webhooks import WebhookRouter
from runtime.embedded import EmbeddedServiceError, postgres_env, resolve_services
from runtime.embedded_watch import ServiceWatcher
from runtime.migrate import migrate
from runtime.settings import Settings, secret_key_or_generate
from runtime.settings import settings as load_settings
from runtime.supervisor import ChildSpec, CrashLoop, Supervisor, child_environment, trail_command

READY_TIMEOUT = 120.0


class _StopSignals:
    """SIGINT/SIGTERM: abort the start-up, or, once children run, ask the supervisor to stop."""

    def __init__(self) -> None:
        self.stopping: threading.Event | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping is None:
            # Unwinds through the `with` blocks, which stop whatever was already started.
            raise KeyboardInterrupt
        self.stopping.set()


def _ensure_port_free(host: str, port: int) -> None:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise click.ClickException(f"cannot listen on {host}: {error.strerror}") from error
    with socket.socket(family, kind, proto) as sock:
        # As uvicorn binds: a port left in TIME_WAIT by a previous run is usable.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use (another Trail or another "
                    "program); stop it or choose another port with --port or TRAIL_PORT"
                ) from error
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {error.strerror}") from error


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _announce_when_ready(url: str, supervisor: Supervisor) -> None:
    # The port was free before the api child started, and the child is alive when /health
    # answers: the answer is ours, not another program's.
    deadline = time.monotonic() + READY_TIMEOUT
    warned = False
    while not supervisor.stopping.wait(0.3):
        if _health_ok(url) and supervisor.is_running("api"):
            click.echo(f"Trail is running at {url}  (API docs: {url}/docs)")
            return
        if not warned and time.monotonic() > deadline:
            click.echo(f"Trail's API has not answered on {url}/health within "
                       f"{READY_TIMEOUT:.0f} s; still waiting", err=True)
            warned = True


def _prepare_schema(database_url: str) -> list[str]:
    """Every piece of schema work, once, before any child starts: the migrations, and each
    follower's first version (children that created theirs at once raced on the catalog).
    Children still check at start, and find everything in place."""
    applied = migrate(database_url)
    env = postgres_env(database_url)
    followers: list[type[ReadModel]] = [*READ_MODELS, Outbox, WebhookRouter]
    for model in followers:
        install(model, env)
    return applied


def _serve(settings: Settings, signals: _StopSignals, host: str, port: int) -> CrashLoop | None:
    url = f"http://{host}:{port}"
    with resolve_services(settings, announce=click.echo) as services:
        watcher = ServiceWatcher(services.embedded)
        watcher.start()
        try:
            applied = _prepare_schema(services.database_url)
            click.echo(f"Database: migrated ({', '.join(applied)})" if applied
                       else "Database: schema up to date")
            env = child_environment({
                "DATABASE_URL": services.database_url,
                "REDIS_URL": services.redis_url,
                "TRAIL_SECRET_KEY": secret_key_or_generate(settings),
                "TRAIL_BASE_URL": settings.base_url or url,
            })
            supervisor = Supervisor([
                ChildSpec("api", trail_command("api", "--host", host, "--port", str(port))),
                ChildSpec("projector", trail_command("projector")),
                ChildSpec("notifier", trail_command("notifier")),
                ChildSpec("worker", trail_command("worker")),
                ChildSpec("webhooks", trail_command("webhooks")),
            ], env)
            for line in (f"API: starting on {url}…", "Projector: starting…",
                         "Notifier: starting…", "Email worker: starting…"):
                click.echo(line)
            signals.stopping = supervisor.stopping
            threading.Thread(target=_announce_when_ready, args=(url, supervisor),
                             daemon=True).start()
            crash_loop = supervisor.run()
        finally:
            # Before the servers stop, or it would start them again.
            watcher.stop()
    return crash_loop


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default TRAIL_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (default TRAIL_PORT).")
def serve_command(host: str | None, port: int | None) -> None:
    """Run the API, projectors, notifier, an email worker and the webhook deliverer together."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    _ensure_port_free(host, port)
    signals = _StopSignals()
    click.echo("Starting Trail…")
    try:
        crash_loop = _serve(settings, signals, host, port)
    except KeyboardInterrupt:
        crash_loop = None
    except EmbeddedServiceError as error:
        raise click.ClickException(str(error)) from error
    if crash_loop is not None:
        click.echo(f"Trail stopped: {crash_loop.report()}", err=True)
        sys.exit(1)
    click.echo("Trail stopped.")
