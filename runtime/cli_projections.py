"""`trail projector` and `trail projections rebuild|status`.

They need PostgreSQL only: with no DATABASE_URL they start, or reuse, the embedded server of
TRAIL_DATA_DIR (the one a running `trail serve` uses), and never start Redis.
"""

from __future__ import annotations

import logging

import click

from projections.base import ReadModel
from projections.catalog import BY_NAME, READ_MODELS
from projections.errors import ProjectionError
from projections.positions import projection_status
from projections.projector import run_projections
from projections.rebuild import rebuild
from projections.runner import tune_gc
from runtime.cli_migrate import database_url
from runtime.embedded import postgres_env
from runtime.logs import configure_logging
from runtime.migrate import migrate
from runtime.outage import Stopped, until_available
from runtime.settings import settings as load_settings
from runtime.signals import stop_on_signals

log = logging.getLogger(__name__)


def _env(url: str) -> dict[str, str]:
    # The projections read the write side's events table: make sure it exists.
    migrate(url)
    return postgres_env(url)


@click.command("projector")
def projector_command() -> None:
    """Keep every read model current until SIGTERM or Ctrl-C.

    Exits non-zero when a projector fails, after logging the event position it failed at.
    """
    configure_logging(load_settings().log_format)
    tune_gc()
    stopping = stop_on_signals()
    with database_url() as url:
        try:
            env = until_available(lambda: _env(url), "projector", stopping)
        except Stopped:
            return
        log.info("projector running: %s", ", ".join(m.name for m in READ_MODELS))
        try:
            run_projections(READ_MODELS, env, stopping)
        except ProjectionError as error:
            raise click.ClickException(str(error)) from error


@click.group("projections")
def projections_group() -> None:
    """Rebuild read models and show how far behind the event log they are."""


def _models(names: tuple[str, ...]) -> list[type[ReadModel]]:
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise click.BadParameter(
            f"unknown projection {', '.join(unknown)}; known: {', '.join(BY_NAME)}",
            param_hint="NAME",
        )
    return [BY_NAME[name] for name in names] if names else list(READ_MODELS)


@projections_group.command("rebuild")
@click.argument("names", metavar="[NAME]...", nargs=-1)
def rebuild_command(names: tuple[str, ...]) -> None:
    """Rebuild read models from position 0 while the current ones keep serving (all by default).

    Each is built as a new version of its tables, then switched to atomically; the old version
    is dropped. A running `trail projector` follows the switch.
    """
    configure_logging(load_settings().log_format, level="WARNING")
    tune_gc()
    models = _models(names)
    with database_url() as url:
        env = _env(url)
        for model in models:
            try:
                done = rebuild(model, env, show_progress=True)
            except ProjectionError as error:
                raise click.ClickException(str(error)) from error
            click.echo(
                f"{done.name}: version {done.version} live at position {done.position:,}; "
                f"{done.events:,} of its events applied in {done.seconds:.1f} s "
                f"({done.position / done.seconds:,.0f} log positions/s)"
            )


@projections_group.command("status")
def status_command() -> None:
    """Each projection's position in the event log and how many events it lags behind."""
    with database_url() as url:
        statuses = projection_status(url)
    if not statuses:
        click.echo("no projections installed yet (run `trail projector`)")
        return
    width = max(len(name) for name in statuses)
    click.echo(f"{'projection':<{width}}  {'position':>12}  {'lag':>10}")
    for name, status in statuses.items():
        click.echo(f"{name:<{width}}  {status.position:>12,}  {status.lag:>10,}")


__all__ = ["projections_group", "projector_command"]
