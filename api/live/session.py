"""One live stream (a WebSocket or an SSE response): whose it is, with what authority now, what
it subscribed to, and which frames of each slot it gets.

Authority comes from the log as events pass, not only from the token at connect: the follower
hands every event about the session's user to `authority` at once (whatever the stream's own
pace), so a deactivation, a password change or a demotion that takes a subscribed ticket out of
sight closes the stream within moments. Ticket visibility is decided per event with
`domain.visibility.may_see` against the ticket as it is now (`api.live.audiences`), and
conversations with `domain.conversation.takes_part`: one rule for every stream.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

import msgspec

from api.live.audiences import Audiences
from api.live.slots import EventSlot, NotificationSlot
from domain.api_tokens import ApiTokens
from domain.conversation import takes_part
from domain.user import User
from domain.values import Role
from domain.visibility import TicketAudience, Viewer, may_see

if TYPE_CHECKING:
    from api.live.credentials import Credential

# Close codes: the first message was not a valid `auth`, the token expired or the API token was
# revoked (4401); the account may no longer see what it subscribed to, or act at all (4403).
UNAUTHENTICATED = 4401
FORBIDDEN = 4403


class Closing(NamedTuple):
    code: int
    reason: str


@dataclass
class Topics:
    tickets: set[UUID] = field(default_factory=set)
    projects: set[UUID] = field(default_factory=set)
    notifications: bool = False
    messages: bool = False

    def added(self, other: Topics) -> Topics:
        """What `other` follows that these do not."""
        return Topics(other.tickets - self.tickets, other.projects - self.projects,
                      other.notifications and not self.notifications,
                      other.messages and not self.messages)

    def merge(self, other: Topics) -> None:
        self.tickets |= other.tickets
        self.projects |= other.projects
        self.notifications = self.notifications or other.notifications
        self.messages = self.messages or other.messages


# What a stream sends for a slot: a WebSocket frame (text), or an event slot for SSE.
Output = str | EventSlot


class Session:
    def __init__(self, viewer: Viewer, credential: Credential, *, everything: bool = False
                 ) -> None:
        self.viewer = viewer
        self.credential = credential
        self.everything = everything
        """An SSE stream: every event the viewer may see, not topics."""
        self.since = 0
        """Authority events after this position apply (the head when the session began)."""
        self.topics = Topics()
        self.watched: dict[UUID, TicketAudience] = {}
        """The audience of each subscribed ticket, as last seen."""
        self.position = 0
        """Events are delivered up to this position."""
        self.notified = 0
        """Notifications are delivered up to this position."""
        self.seq = 0
        """The hub's ring is read after this slot."""
        self.covered = (0, 0)
        """The positions of events and notifications the ring holds after `seq`."""
        self.busy = False
        """Its loop is at work: the hub wakes it rather than moving it past new slots."""
        self.started = False
        """Whether the stream has subscribed: its positions are set from then on."""
        self.closing: Closing | None = None
        self.wake = asyncio.Event()
        self.inbox: deque[Any] = deque()
        self.warnings: deque[str] = deque()

    @property
    def user_id(self) -> UUID:
        return self.viewer.id

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = Closing(code, reason)
        self.wake.set()

    def post(self, item: Any) -> None:
        """Hand the stream's own loop something to do in order with its frames."""
        self.inbox.append(item)
        self.wake.set()

    # ------------------------------------------------------------------ authority

    @property
    def expires_at(self) -> datetime | None:
        return self.credential.expires_at

    def authority(self, position: int, event: User.Event | ApiTokens.Revoked,
                  audiences: Audiences) -> None:
        """Apply an event about this session's user or its API token, recorded at
        `position`."""
        if position <= self.since:
            return
        issued_at = self.credential.issued_at
        match event:
            case ApiTokens.Revoked() if event.token_id == self.credential.token_id:
                self.close(UNAUTHENTICATED, "the API token was revoked")
            case User.Deactivated():
                self.close(FORBIDDEN, "the account was deactivated")
            case User.MadePending():
                self.close(FORBIDDEN, "the account waits for approval again")
            case User.PasswordChanged() if issued_at and issued_at < event.timestamp:
                self.close(FORBIDDEN, "the password changed: sign in again")
            case User.RoleChanged():
                self._sees_now(msgspec.structs.replace(self.viewer, role=event.role),
                               audiences, "the role changed")
            case User.TeamsChanged():
                self._sees_now(msgspec.structs.replace(
                    self.viewer, team_ids=frozenset(event.team_ids),
                    led_team_ids=frozenset(event.led_team_ids)), audiences, "the teams changed")

    def reverified(self, viewer: Viewer, audiences: Audiences) -> None:
        """The account as it is now, verified again from the write side."""
        self._sees_now(viewer, audiences, "the account changed")

    def _sees_now(self, viewer: Viewer, audiences: Audiences, why: str) -> None:
        """Go on as `viewer`; closed if a subscribed ticket is now out of its sight."""
        self.viewer = viewer
        lost = [t for t in self.topics.tickets if not self._sees(t, audiences)]
        if lost:
            self.close(FORBIDDEN, f"{why}: ticket:{lost[0]} is out of sight")

    def _sees(self, ticket_id: UUID, audiences: Audiences) -> bool:
        audience = audiences.get(ticket_id) or self.watched.get(ticket_id)
        return audience is not None and may_see(self.viewer, audience)

    # ------------------------------------------------------------------ what it gets

    def outputs(self, slot: EventSlot, audiences: Audiences,
                only: Topics | None = None) -> list[Output]:
        audience = (audiences.get(slot.ticket_id) if slot.ticket_id else None) or slot.audience
        if self.everything:
            return [slot] if self._firehose_sees(slot, audience) else []
        topics = only or self.topics
        if slot.frame is None or slot.ticket_id is None or audience is None:
            return []
        if slot.is_message:
            wanted = topics.messages or slot.ticket_id in topics.tickets
            return [slot.frame] if wanted and takes_part(self.user_id, audience) else []
        if slot.ticket_id in topics.tickets:
            self.watched[slot.ticket_id] = audience
            if not may_see(self.viewer, audience):
                self._lose(slot.ticket_id)
                return []
        elif audience.project_id not in topics.projects:
            return []
        return [slot.frame] if may_see(self.viewer, audience) else []

    def notices(self, slot: NotificationSlot, audiences: Audiences,
                only: Topics | None = None) -> list[Output]:
        topics = only or self.topics
        if self.everything or not topics.notifications:
            return []
        frames: list[Output] = []
        for notice in slot.notices:
            if notice.user_id != self.user_id:
                continue
            if only is None and notice.position <= self.notified:
                continue
            audience = audiences.get(notice.ticket_id)
            if audience is not None and may_see(self.viewer, audience):
                frames.append(notice.frame)
        return frames

    def _firehose_sees(self, slot: EventSlot, audience: TicketAudience | None) -> bool:
        if slot.is_message:
            return audience is not None and takes_part(self.user_id, audience)
        if slot.is_ticket_event:
            return audience is not None and may_see(self.viewer, audience)
        return self.viewer.role is Role.ADMIN

    def _lose(self, ticket_id: UUID) -> None:
        """A subscribed ticket went out of sight (the ticket changed, not the user): stop it."""
        self.topics.tickets.discard(ticket_id)
        self.watched.pop(ticket_id, None)
        self.warnings.append(f"ticket:{ticket_id} is no longer visible; unsubscribed")
