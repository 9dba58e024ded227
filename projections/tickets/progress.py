"""A parent's progress, kept on its row: how many subtasks it has, and how many of them are done
(resolved or closed). Parents hear nothing of their subtasks on the write side; the counts move
here, when a subtask is created under a parent, changes parent, or crosses the done line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.ticket import Ticket
from domain.values import DONE
from eventlog.reading import Recorded

Rows = dict[UUID, dict[str, Any]]


def parents_involved(rows: Rows, events: Sequence[Recorded]) -> set[UUID]:
    """Every ticket that is a parent, during the batch, of a ticket the batch changes: the ones
    `rows` (the changed tickets as stored) name, and the ones the batch's events name."""
    parents = {row["parent_id"] for row in rows.values()}
    for _, event in events:
        match event:
            case Ticket.Created(parent_id=parent_id):
                parents.add(parent_id)
            case Ticket.ParentChanged(old_parent_id=old, parent_id=new):
                parents.update((old, new))
    parents.discard(None)
    return parents


def count(rows: Rows, event: Ticket.Event) -> None:
    """Move the counts of the parents `event` concerns; call it before folding `event` into
    its own row, whose parent and status it reads as they were."""
    match event:
        case Ticket.Created(parent_id=parent_id) if parent_id is not None:
            _add(rows[parent_id], 1, 0)
        case Ticket.StatusChanged(old_status=old, status=new):
            parent_id = rows[event.originator_id]["parent_id"]
            if parent_id is not None:
                _add(rows[parent_id], 0, (new in DONE) - (old in DONE))
        case Ticket.ParentChanged(old_parent_id=old, parent_id=new):
            done = int(rows[event.originator_id]["status"] in DONE)
            for parent_id, sign in ((old, -1), (new, 1)):
                if parent_id is not None:
                    _add(rows[parent_id], sign, sign * done)


def _add(row: dict[str, Any], total: int, done: int) -> None:
    row["children_total"] += total
    row["children_done"] += done
