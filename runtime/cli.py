"""The `trail` command line."""

from __future__ import annotations

import click

from runtime.cli_audit import history_command


@click.group()
def main() -> None:
    """Trail: an event-sourced issue tracker."""


main.add_command(history_command)

if __name__ == "__main__":
    main()
