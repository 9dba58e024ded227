"""Commands in a batch of the log: the followers that answer once per command (an email, a
notification) cut a batch into the runs of events one command recorded on one ticket.

A command's events are consecutive in the log (one atomic save under the events table's lock),
so a run is never interleaved with another; only a batch boundary can split one, and then the
rest is read from the log (`whole_command`).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.ticket import Ticket
from eventlog.reading import Executor, Recorded, aggregate_events

# A ticket command records at most one event per field it edits; this bounds the look-ahead.
MAX_EVENTS_PER_COMMAND = 32


def command_runs(events: Sequence[Recorded]) -> list[list[Recorded]]:
    """The batch cut into runs of consecutive events of one ticket command; any other event
    is a run of its own."""
    runs: list[list[Recorded]] = []
    for recorded in events:
        event = recorded.event
        if runs and isinstance(event, Ticket.Event):
            last = runs[-1][-1].event
            if (
                isinstance(last, Ticket.Event)
                and last.command_id == event.command_id
                and last.originator_id == event.originator_id
            ):
                runs[-1].append(recorded)
                continue
        runs.append([recorded])
    return runs


def ticket_run(run: Sequence[Recorded]) -> list[tuple[Ticket.Event, int]]:
    """A run's ticket events with their positions."""
    return [(r.event, r.position) for r in run if isinstance(r.event, Ticket.Event)]


def whole_command(db: Executor, first: Ticket.Event) -> list[tuple[Ticket.Event, int]]:
    """The whole command that `first` begins, read from the log."""
    recorded = aggregate_events(
        db, first.originator_id, first.originator_version - 1, MAX_EVENTS_PER_COMMAND
    )
    events: list[tuple[Ticket.Event, int]] = []
    for position, event in recorded:
        if not isinstance(event, Ticket.Event) or event.command_id != first.command_id:
            break
        events.append((event, position))
    return events
