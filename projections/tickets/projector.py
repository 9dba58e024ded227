"""Folds ticket events into rows of the tickets table, one set-based write per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import DictRow

from domain.project import Project
from domain.ticket import Ticket
from domain.ticket_events import TICKET_EVENTS
from domain.values import Status
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, insert, upsert
from projections.tickets import progress
from projections.tickets.table import COLUMNS, INDEXES, PROJECTS_DDL, TICKETS_DDL

# The first this many characters of a ticket's comments are searchable (about a hundred long
# comments); the comments themselves are all kept, in the comments model.
SEARCHED_COMMENT_CHARS = 200_000


class TicketsProjection(ReadModel):
    name = "tickets"
    revision = 6
    topics = topics_of(Project.Created, *TICKET_EVENTS)
    tables = {"tickets": TICKETS_DDL, "ticket_projects": PROJECTS_DDL}
    indexes = INDEXES
    extensions = ("btree_gin",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new_projects = {
            e.event.originator_id: e.event.key
            for e in events if isinstance(e.event, Project.Created)
        }
        insert(cur, "ticket_projects", ("id", "key"),
               [{"id": pid, "key": key} for pid, key in new_projects.items()])
        keys = _project_keys(cur, new_projects, events)
        created = {e.event.originator_id for e in events if isinstance(e.event, Ticket.Created)}
        rows = fetch_by_ids(cur, "tickets", "id", COLUMNS, _changed_ticket_ids(events))
        parents = progress.parents_involved(rows, events) - rows.keys() - created
        rows |= fetch_by_ids(cur, "tickets", "id", COLUMNS, parents)
        for position, event in events:
            match event:
                case Ticket.Created():
                    rows[event.originator_id] = _created(position, event, keys)
                    progress.count(rows, event)
                case Ticket.Event():
                    progress.count(rows, event)
                    _fold(rows[event.originator_id], event)
        upsert(cur, "tickets", ("id",), COLUMNS, list(rows.values()))


def _changed_ticket_ids(events: Sequence[Recorded]) -> set[UUID]:
    created = {e.event.originator_id for e in events if isinstance(e.event, Ticket.Created)}
    changed = {e.event.originator_id for e in events if isinstance(e.event, Ticket.Event)}
    return changed - created


def _project_keys(
    cur: Cursor[DictRow], new: dict[UUID, str], events: Sequence[Recorded]
) -> dict[UUID, str]:
    wanted = {e.event.project_id for e in events if isinstance(e.event, Ticket.Created)}
    known = fetch_by_ids(cur, "ticket_projects", "id", ("id", "key"), wanted - new.keys())
    return {**new, **{pid: row["key"] for pid, row in known.items()}}


def _created(position: int, event: Ticket.Created, keys: dict[UUID, str]) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "seq": position,
        "number": event.number,
        "project_id": event.project_id,
        "project_key": keys[event.project_id],
        "title": event.title,
        "description": event.description,
        "status": Status.OPEN,
        "priority": event.priority,
        "type": event.type,
        "tags": list(event.tags),
        "due_date": event.due_date,
        "reporter_id": event.reporter_id,
        "assignee_ids": list(event.assignee_ids),
        "version": event.originator_version,
        "created_at": event.timestamp,
        "updated_at": None,
        "comment_bodies": {},
        "parent_id": event.parent_id,
        "team_id": event.team_id,
        "links": [],
        "children_total": 0,
        "children_done": 0,
        "attachment_ids": [],
    }


def _fold(row: dict[str, Any], event: Ticket.Event) -> None:
    match event:
        case Ticket.TitleChanged(title=title):
            row["title"] = title
        case Ticket.DescriptionChanged(description=description):
            row["description"] = description
        case Ticket.StatusChanged(status=status):
            row["status"] = status
        case Ticket.PriorityChanged(priority=priority):
            row["priority"] = priority
        case Ticket.TypeChanged(type=kind):
            row["type"] = kind
        case Ticket.TagsChanged(tags=tags):
            row["tags"] = list(tags)
        case Ticket.DueDateChanged(due_date=due_date):
            row["due_date"] = due_date
        case Ticket.AssigneesChanged(assignee_ids=assignee_ids):
            row["assignee_ids"] = list(assignee_ids)
        case Ticket.Commented(comment_id=cid, body=body) | Ticket.CommentEdited(
            comment_id=cid, body=body
        ):
            _index_comment(row["comment_bodies"], str(cid), body)
        case Ticket.ParentChanged(parent_id=parent_id):
            row["parent_id"] = parent_id
        case Ticket.TeamChanged(team_id=team_id):
            row["team_id"] = team_id
        case Ticket.LinkAdded() | Ticket.LinkRemoved():
            row["links"] = list(event.links())
        case Ticket.AttachmentAdded(attachment_ids=ids) | Ticket.AttachmentRemoved(
            attachment_ids=ids
        ):
            row["attachment_ids"] = list(ids)
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp


def _index_comment(bodies: dict[str, str], comment_id: str, body: str) -> None:
    """Keep a comment's words searchable, up to a bound on all of the ticket's comments:
    PostgreSQL refuses a tsvector over 1 MB, and that refusal would stop the projection."""
    bodies.pop(comment_id, None)
    room = SEARCHED_COMMENT_CHARS - sum(len(b) for b in bodies.values())
    if room > 0:
        bodies[comment_id] = body[:room]


