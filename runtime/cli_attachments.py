"""`trail attachments sweep`: remove attachment bytes no attachment needs, now, from the shell
(every `trail worker` also does it hourly)."""

from __future__ import annotations

import click

from runtime import bootstrap
from runtime.cli_migrate import database_url
from runtime.migrate import migrate
from runtime.settings import settings as load_settings
from workers.sweep import SweepNotReady


@click.group("attachments")
def attachments_group() -> None:
    """Manage the bytes of ticket attachments."""


@attachments_group.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only tell what would be removed.")
def sweep_command(dry_run: bool) -> None:
    """Remove bytes whose upload never committed (after an hour) and bytes of attachments
    removed longer ago than TRAIL_ATTACHMENT_RETENTION_DAYS; print what went."""
    settings = load_settings()
    with database_url() as url:
        migrate(url)
        sweep = bootstrap.attachment_sweep(settings, url)
        try:
            report = sweep.run(dry_run=dry_run)
        except SweepNotReady as error:
            raise click.ClickException(f"{error}; is `trail projector` running?") from error
    click.echo(f"would have {report}" if dry_run else str(report))
