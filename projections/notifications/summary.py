"""What one command changed (`merged_changes`), and a notification's summary line: who did what,
in words ("Max changed status to in progress", "Rita commented", "Ada assigned Dave and changed
priority to high")."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from domain.history import Change, changes_of
from domain.ticket import Ticket

_LABELS = {"due_date": "the due date", "description": "the description", "tags": "the tags",
           "title": "the title"}
_WORDS = {"in_progress": "in progress"}
_TITLE_SHOWN = 80


def merged_changes(command: Sequence[tuple[Ticket.Event, int]]) -> dict[str, Change]:
    """Field by field over the whole command, in history's shape: the first `from`, the last
    `to`; a field that ends where it began is left out (except on creation)."""
    merged = changes_of(command[0][0])
    for event, _ in command[1:]:
        for field, change in changes_of(event).items():
            old = merged[field].from_ if field in merged else change.from_
            merged[field] = Change(old, change.to)
    if isinstance(command[0][0], Ticket.Created):
        return merged
    return {field: c for field, c in merged.items() if c.from_ != c.to}


def summary(actor: str, changes: Mapping[str, Change], *, created: bool,
            names: Callable[[UUID], str]) -> str:
    if created:
        return f"{actor} created the ticket"
    phrases = [_phrase(field, change, names) for field, change in changes.items()]
    return f"{actor} {_and(phrases)}" if phrases else f"{actor} changed the ticket"


def _phrase(field: str, change: Change, names: Callable[[UUID], str]) -> str:
    old, new = change.from_, change.to
    match field:
        case "status" | "priority" | "type":
            return f"changed {field} to {_WORDS.get(new, new)}"
        case "title":
            shown = new if len(new) <= _TITLE_SHOWN else new[: _TITLE_SHOWN - 1] + "…"
            return f'changed the title to "{shown}"'
        case "due_date":
            return f"set the due date to {new}" if new else "cleared the due date"
        case "comment":
            return "commented" if old is None else "edited a comment"
        case "assignee_ids":
            return _assignment(old or [], new or [], names)
        case "attachment_ids" | "links":
            return _counted(field, len(new or []) - len(old or []))
        case "parent_id":
            return "set the parent ticket" if new else "cleared the parent ticket"
        case "team_id":
            return "moved the ticket to a team" if new else "took the ticket out of its team"
    return f"changed {_LABELS.get(field, field.replace('_', ' '))}"


def _counted(field: str, added: int) -> str:
    """Attachments and links, by what the command did to their number."""
    if field == "attachment_ids":
        return "attached a file" if added > 0 else "removed an attachment"
    return "linked a ticket" if added > 0 else "removed a link"


def _assignment(old: list[Any], new: list[Any], names: Callable[[UUID], str]) -> str:
    added = [names(UUID(str(u))) for u in new if u not in old]
    removed = [names(UUID(str(u))) for u in old if u not in new]
    parts = []
    if added:
        parts.append(f"assigned {_and(added)}")
    if removed:
        parts.append(f"unassigned {_and(removed)}")
    return " and ".join(parts) or "changed the assignees"


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
