"""The `trail` command line: one entry point for every process and operator task."""

from __future__ import annotations

import click

from runtime.cli_api import api_command
from runtime.cli_attachments import attachments_group
from runtime.cli_audit import history_command
from runtime.cli_email import emails_group, notifier_command, worker_command
from runtime.cli_migrate import migrate_command
from runtime.cli_projections import projections_group, projector_command
from runtime.cli_serve import serve_command


@click.group()
def main() -> None:
    """Trail: an event-sourced issue tracker."""


for command in (
    serve_command,
    api_command,
    projector_command,
    projections_group,
    notifier_command,
    worker_command,
    emails_group,
    history_command,
    attachments_group,
    migrate_command,
):
    main.add_command(command)

if __name__ == "__main__":
    main()
