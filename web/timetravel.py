"""A ticket's past, as people read it: the timeline of its events (who, when, each field from →
to) and what a chosen moment changed, down to the words of a rewritten description.

Everything comes from the log (`eventlog.audit`): the history entries for the timeline, and the
ticket folded up to a version for the state at that moment, so what the page shows is exactly
what was recorded, whatever the read models are doing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from markupsafe import Markup, escape

from domain.history import HistoryEntry
from projections.users import UserRef
from web.render import field_label, label

# Fields whose values are prose: shown as a word diff rather than "from → to".
LONG_FIELDS = frozenset({"description", "comment", "body"})
# Fields holding user ids, shown by name.
PEOPLE_FIELDS = frozenset({"assignee_ids", "reporter_id", "watcher_ids"})
# Bookkeeping of creation that every ticket has: not worth a line of the timeline.
QUIET_AT_CREATION = frozenset({"project_id", "number", "reporter_id"})

PHRASES = {
    "Ticket.Created": "created the ticket",
    "Ticket.TitleChanged": "changed the title",
    "Ticket.DescriptionChanged": "edited the description",
    "Ticket.StatusChanged": "changed the status",
    "Ticket.PriorityChanged": "changed the priority",
    "Ticket.TypeChanged": "changed the type",
    "Ticket.TagsChanged": "changed the tags",
    "Ticket.DueDateChanged": "changed the due date",
    "Ticket.AssigneesChanged": "changed the assignees",
    "Ticket.Commented": "commented",
    "Ticket.CommentEdited": "edited a comment",
    "Ticket.AttachmentAdded": "attached a file",
    "Ticket.AttachmentRemoved": "removed an attachment",
    "Ticket.LinkAdded": "linked a ticket",
    "Ticket.LinkRemoved": "removed a link",
    "Ticket.ParentChanged": "changed the parent",
    "Ticket.TeamChanged": "changed the team",
}
# Fields holding the ids of other things (files, tickets, teams), shown by their names.
NAMED_FIELDS = frozenset({"attachment_ids", "parent_id", "team_id"})
LINK_WORDS = {"blocks": "blocks", "blocked_by": "blocked by", "duplicates": "duplicates",
              "duplicated_by": "duplicated by", "relates_to": "relates to"}


class FieldChange(msgspec.Struct, frozen=True):
    field: str
    label: str
    old: str
    new: str
    long: bool
    diff: Markup | None = None


class Moment(msgspec.Struct, frozen=True):
    """One event of the ticket, as the timeline shows it."""

    version: int
    position: int
    type: str
    at: datetime
    actor: UserRef
    phrase: str
    changes: list[FieldChange]

    @property
    def fields(self) -> set[str]:
        return {c.field for c in self.changes}


def people_in(entries: Iterable[HistoryEntry]) -> set[UUID]:
    """Everyone a timeline names: the actors, and the people its changes mention."""
    found: set[UUID] = set()
    for entry in entries:
        found.add(entry.actor_id)
        for name, change in entry.changes.items():
            if name in PEOPLE_FIELDS:
                for value in (change.from_, change.to):
                    found.update(_ids(value))
    return found


def _ids(value: Any) -> list[UUID]:
    values = value if isinstance(value, list) else [value]
    ids = []
    for v in values:
        try:
            ids.append(UUID(str(v)))
        except ValueError:
            continue
    return ids


def things_in(entries: Iterable[HistoryEntry]) -> set[UUID]:
    """The other tickets and the teams a timeline mentions (files are named by the ticket)."""
    found: set[UUID] = set()
    for entry in entries:
        for name, change in entry.changes.items():
            for value in (change.from_, change.to):
                if name in ("parent_id", "team_id"):
                    found.update(_ids(value))
                elif name == "links" and isinstance(value, list):
                    found.update(_ids([link.get("ticket_id") for link in value
                                       if isinstance(link, dict)]))
    return found


def timeline(entries: Sequence[HistoryEntry], people: Mapping[UUID, UserRef],
             names: Mapping[UUID, str] | None = None) -> list[Moment]:
    """`names`: what the timeline calls files, tickets and teams it mentions by id."""
    return [moment(entry, people, names or {}) for entry in entries]


def moment(entry: HistoryEntry, people: Mapping[UUID, UserRef],
           names: Mapping[UUID, str] | None = None) -> Moment:
    created = entry.type == "Ticket.Created"
    changes = []
    for name, change in entry.changes.items():
        if created and (name in QUIET_AT_CREATION or change.to in (None, [], "")):
            continue
        long = name in LONG_FIELDS
        old = shown(name, change.from_, people, names)
        new = shown(name, change.to, people, names)
        changes.append(FieldChange(
            field=name,
            label=field_label(name),
            old=old,
            new=new,
            long=long,
            diff=(word_diff(change.from_ or "", change.to or "")
                  if long and not created and change.from_ is not None else None),
        ))
    actor = people.get(entry.actor_id) or UserRef(entry.actor_id, "")
    return Moment(
        version=entry.version,
        position=entry.position,
        type=entry.type,
        at=entry.at,
        actor=actor,
        phrase=PHRASES.get(entry.type) or _generic_phrase(entry),
        changes=changes,
    )


def _generic_phrase(entry: HistoryEntry) -> str:
    """For kinds of events this page has no words for yet: the fields they changed."""
    names = [field_label(n).lower() for n in entry.changes]
    if not names:
        return entry.type.split(".")[-1].lower()
    return "changed " + ", ".join(names)


def shown(field: str, value: Any, people: Mapping[UUID, UserRef],
          names: Mapping[UUID, str] | None = None) -> str:
    """A value of a history change, as a person reads it."""
    if value is None or value == "" or value == []:
        return "none"
    if field in PEOPLE_FIELDS:
        who = [(people.get(u) or UserRef(u, "")).name or "unknown user" for u in _ids(value)]
        return ", ".join(who) or "nobody"
    known = names or {}
    if field in NAMED_FIELDS:
        return ", ".join(known.get(i, "one you cannot see") for i in _ids(value))
    if field == "links" and isinstance(value, list):
        return ", ".join(
            f"{LINK_WORDS.get(str(link.get('type')), str(link.get('type')))} "
            f"{known.get(_ids([link.get('ticket_id')])[0], 'a ticket you cannot see')}"
            if isinstance(link, dict) and _ids([link.get("ticket_id")]) else "a link"
            for link in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field in ("status", "priority", "type"):
        return label(value)
    return str(value)


_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> Markup:
    """`new` with the words it added marked `<ins>` and the words it removed from `old` marked
    `<del>`, in reading order; whitespace is kept as written."""
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    html: list[Markup] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            html.append(escape("".join(after[b1:b2])))
            continue
        if op in ("delete", "replace"):
            html.append(Markup("<del>{}</del>").format("".join(before[a1:a2])))
        if op in ("insert", "replace"):
            html.append(Markup("<ins>{}</ins>").format("".join(after[b1:b2])))
    return Markup("").join(html)
