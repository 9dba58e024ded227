"""What the ticket page shows beside its fields: attachments, links, the parent and subtasks
with their progress, watchers, and the conversation for those who take part in it.

Attachments and links are read from the ticket as shown (the aggregate, now or at a past
version), so time travel shows them as they were; the other tickets are named as they are now
and only when the person may see them (the tickets model's visibility, the SQL form of
`domain.visibility`). Who takes part in the conversation is `domain.conversation.takes_part`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import DictRow

from commands.permissions import Actor
from domain.conversation import takes_part
from domain.links import LinkType
from domain.ticket import Ticket
from projections import conversations, notifications, present, tickets
from projections.conversations import MessageView
from projections.tickets import TicketFilters, TicketView
from projections.tickets.links import LinkedTicket
from projections.tickets.queries import Progress
from projections.users import UserRef

# The read models the panels read, which the page waits for after the browser's last write.
READS = (tickets.TicketsProjection.name, "users", notifications.NotificationsProjection.name,
         conversations.ConversationsProjection.name)
LINK_WORDS = {
    LinkType.BLOCKS: "Blocks",
    LinkType.BLOCKED_BY: "Blocked by",
    LinkType.DUPLICATES: "Duplicates",
    LinkType.DUPLICATED_BY: "Duplicated by",
    LinkType.RELATES_TO: "Relates to",
}
# A conversation longer than this shows its latest messages (it is a chat, not an archive).
CONVERSATION_LIMIT = 200
SUBTASK_LIMIT = 100


@dataclass(frozen=True)
class AttachmentRow:
    id: UUID
    filename: str
    content_type: str
    size: int
    uploader: UserRef
    created_at: datetime
    removable: bool

    @property
    def image(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass(frozen=True)
class LinkRow:
    id: UUID
    words: str
    ticket: LinkedTicket


@dataclass
class Panels:
    attachments: list[AttachmentRow] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    parent: LinkedTicket | None = None
    subtasks: list[TicketView] = field(default_factory=list)
    progress: Progress | None = None
    watchers: list[UserRef] = field(default_factory=list)
    watching: bool = False
    # None: the person does not take part, and the page shows no conversation at all.
    conversation: list[MessageView] | None = None


def panels(conn: Connection[DictRow], actor: Actor, current: Ticket, shown: Ticket) -> Panels:
    found = Panels()
    uploaders = present.refs(conn, {a.uploaded_by for a in shown.attachments.values()})
    found.attachments = [
        AttachmentRow(a.id, a.filename, a.content_type, a.size,
                      uploaders.get(a.uploaded_by) or UserRef(a.uploaded_by, ""), a.created_at,
                      removable=a.uploaded_by == actor.id or actor.is_admin)
        for a in sorted(shown.attachments.values(), key=lambda a: a.created_at)
        if a.removed_at is None
    ]
    found.links = _links(conn, actor, current, shown)
    if shown.parent_id is not None:
        found.parent = _linked(conn, actor, shown.parent_id)
    found.subtasks = tickets.list_tickets(
        conn, TicketFilters(parent_id=current.id, sort="created_at"), actor, SUBTASK_LIMIT).items
    found.progress = tickets.progress_of(conn, current.id)
    found.watchers = notifications.ticket_watchers(conn, current.id)
    found.watching = any(w.id == actor.id for w in found.watchers)
    if takes_part(actor.id, current):
        found.conversation = _conversation(conn, current.id)
    return found


def _linked(conn: Connection[DictRow], actor: Actor, ticket_id: UUID) -> LinkedTicket | None:
    view = tickets.get_ticket(conn, ticket_id, actor)
    if view is None:
        return None
    return LinkedTicket(view.id, view.key, view.title, view.status)


def _links(conn: Connection[DictRow], actor: Actor, current: Ticket, shown: Ticket
           ) -> list[LinkRow]:
    if shown is current:
        return [LinkRow(item.id, LINK_WORDS[item.type], item.ticket)
                for item in tickets.list_links(conn, current.id, actor)]
    rows = []
    for link in shown.links:
        other = _linked(conn, actor, link.ticket_id)
        if other is not None:
            rows.append(LinkRow(link.id, LINK_WORDS[link.type], other))
    return rows


def _conversation(conn: Connection[DictRow], ticket_id: UUID) -> list[MessageView]:
    """The whole conversation, oldest first, or its latest messages when it is very long."""
    messages: list[MessageView] = []
    cursor = None
    while True:
        page = conversations.list_messages(conn, ticket_id, limit=100, cursor=cursor)
        messages += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        messages = messages[-CONVERSATION_LIMIT:]
    return messages[-CONVERSATION_LIMIT:]


def link_choices() -> list[tuple[str, Any]]:
    return [(t.value, LINK_WORDS[t]) for t in LinkType]
