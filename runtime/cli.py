"""The `trail` command line: one entry point for every process and operator task."""

from __future__ import annotations

from typing import Any

import click
from rich_click import RichGroup
from rich_click.patch import patch

# Click's own error output (`Error: …` on one line), kept from before the patch below.
_PLAIN_MAIN = click.core.Command.main
# Rich help for every `trail` command: patched in before any command is defined.
patch()

from runtime.cli_api import api_command  # noqa: E402
from runtime.cli_attachments import attachments_group  # noqa: E402
from runtime.cli_audit import history_command  # noqa: E402
from runtime.cli_email import emails_group, notifier_command, worker_command  # noqa: E402
from runtime.cli_migrate import migrate_command  # noqa: E402
from runtime.cli_projections import projections_group, projector_command  # noqa: E402
from runtime.cli_serve import serve_command  # noqa: E402
from runtime.cli_webhooks import webhooks_command  # noqa: E402


class TrailGroup(RichGroup):
    """Rich help; errors stay click's plain one-line `Error: …`, which scripts and logs read."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        return _PLAIN_MAIN(self, *args, **kwargs)


@click.group(cls=TrailGroup)
def main() -> None:
    """Trail: an event-sourced issue tracker."""


for command in (
    serve_command,
    api_command,
    projector_command,
    projections_group,
    notifier_command,
    worker_command,
    webhooks_command,
    emails_group,
    history_command,
    attachments_group,
    migrate_command,
):
    main.add_command(command)

if __name__ == "__main__":
    main()
