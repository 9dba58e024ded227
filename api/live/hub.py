"""The live hub of an API process: the streams it serves, the recent slots of the log in memory,
and who to wake for each.

It lives on the event loop; the follower (`api.live.follower`) hands it each batch. Slots are
kept in a ring, numbered by `seq`: a stream reads the ring after its own `seq`, and one that falls
out of it (a slow client, or a replay from `after`) catches up from the log itself
(`api.live.pump`). The hub indexes streams by the tickets, projects and users they follow, so a
slot wakes only the streams it may concern; the others, idle at the head, are simply moved past
it. Events about a user reach that user's streams' authority at once (`Session.authority`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

from api.live.audiences import Audiences
from api.live.follower import Follower
from api.live.session import Session, Topics
from api.live.slots import EventSlot, NotificationSlot
from domain.api_tokens import ApiTokens
from domain.conversation import Message
from domain.user import User

Slot = EventSlot | NotificationSlot

# Slots kept in memory: a stream further behind reads the log instead.
RING_SIZE = 5_000
# Asks a session's loop to verify the account again (after the hub skipped a stretch of log).
REVERIFY = "reverify"


class LiveHub:
    def __init__(self, pool: ConnectionPool[Connection[DictRow]],
                 ring_size: int = RING_SIZE) -> None:
        self.pool = pool
        self.audiences = Audiences(pool)
        self.ring_size = ring_size
        self.sessions: set[Session] = set()
        self._by_user: dict[UUID, set[Session]] = {}
        self._by_ticket: dict[UUID, set[Session]] = {}
        self._by_project: dict[UUID, set[Session]] = {}
        self._everything: set[Session] = set()
        self._by_token: dict[UUID, set[Session]] = {}
        self._notified_users: dict[UUID, int] = {}
        self.ring: list[Slot] = []
        self.floor = 0
        """The seq before the ring's first slot: streams at or past it can read the ring."""
        self.seq = 0
        self.position = 0
        """The last position handed over: every event up to it is in the ring or before it."""
        self.notified = 0
        self.following = False
        self._follower = Follower(self)

    @property
    def wants_notifications(self) -> bool:
        return bool(self._notified_users)

    # ------------------------------------------------------------------ streams

    def join(self, session: Session) -> None:
        self.sessions.add(session)
        self._by_user.setdefault(session.user_id, set()).add(session)
        if session.credential.token_id is not None:
            self._by_token.setdefault(session.credential.token_id, set()).add(session)
        if session.everything:
            self._everything.add(session)
        # Authority events after what the hub has handed over reach it; the session verifies
        # the account once more itself to cover what came before.
        session.since = self.position if self.following else 0
        self.place(session)
        self._follower.start(asyncio.get_running_loop())

    def leave(self, session: Session) -> None:
        self.sessions.discard(session)
        _discard(self._by_user, session.user_id, session)
        if session.credential.token_id is not None:
            _discard(self._by_token, session.credential.token_id, session)
        self._everything.discard(session)
        self.unfollow(session, session.topics)

    def follow(self, session: Session, topics: Topics) -> None:
        for ticket_id in topics.tickets:
            self._by_ticket.setdefault(ticket_id, set()).add(session)
        for project_id in topics.projects:
            self._by_project.setdefault(project_id, set()).add(session)
        if topics.notifications:
            self._notified_users[session.user_id] = (
                self._notified_users.get(session.user_id, 0) + 1)

    def unfollow(self, session: Session, topics: Topics) -> None:
        for ticket_id in topics.tickets:
            _discard(self._by_ticket, ticket_id, session)
        for project_id in topics.projects:
            _discard(self._by_project, project_id, session)
        if topics.notifications and session.user_id in self._notified_users:
            self._notified_users[session.user_id] -= 1
            if not self._notified_users[session.user_id]:
                del self._notified_users[session.user_id]

    def place(self, session: Session) -> None:
        """Put a stream at the end of the ring: what it reads next comes after this moment."""
        session.seq = self.seq
        session.covered = (self.position, self.notified)

    def slots_after(self, seq: int) -> list[Slot] | None:
        """The slots after `seq`, or None when the ring no longer holds them all."""
        if seq < self.floor:
            return None
        return self.ring[seq - self.floor:]

    # ------------------------------------------------------------------ from the follower

    def resumed(self, position: int, notified: int) -> None:
        """The follower starts again at `position`, having skipped what came before."""
        self.position, self.notified, self.following = position, notified, True
        self.ring.clear()
        self.floor = self.seq
        for session in self.sessions:
            # What the ring holds from now on starts after `position`: a stream behind it
            # reads the rest from the log.
            session.seq = min(session.seq, self.seq)
            session.covered = (position, notified)
            if session.since < position:
                session.since = position
                session.post(REVERIFY)

    def publish_events(self, slots: list[EventSlot], position: int) -> None:
        before = self.seq
        for slot in slots:
            self._append(slot)
            for session in self._authorities(slot):
                session.authority(slot.position, slot.event, self.audiences)
        self.position = position
        woken: set[Session] = set(self._everything)
        for slot in slots:
            woken |= self._concerned(slot)
        self._move_on(before, woken)

    def publish_notices(self, slot: NotificationSlot) -> None:
        before = self.seq
        if not slot.notices:
            # Nothing to send: the streams at the head are simply past it.
            self.notified = slot.position
            self._move_on(before, ())
            return
        self._append(slot)
        self.notified = slot.position
        users = {notice.user_id for notice in slot.notices}
        woken = {s for u in users for s in self._by_user.get(u, ())}
        self._move_on(before, woken)

    def _authorities(self, slot: EventSlot) -> list[Session]:
        """The streams whose authority `slot` may change: its user's, or its API token's."""
        match slot.event:
            case User.Event():
                return list(self._by_user.get(slot.event.originator_id, ()))
            case ApiTokens.Revoked():
                return list(self._by_token.get(slot.event.token_id, ()))
        return []

    def _append(self, slot: Slot) -> None:
        self.seq += 1
        slot.seq = self.seq
        self.ring.append(slot)
        if len(self.ring) > 2 * self.ring_size:
            dropped = len(self.ring) - self.ring_size
            del self.ring[:dropped]
            self.floor += dropped

    def _concerned(self, slot: EventSlot) -> set[Session]:
        if slot.ticket_id is None:
            return set()
        concerned = set(self._by_ticket.get(slot.ticket_id, ()))
        audience = self.audiences.get(slot.ticket_id) or slot.audience
        if audience is None:
            return concerned
        if isinstance(slot.event, Message.Posted):
            for user_id in (audience.reporter_id, *audience.assignee_ids):
                concerned |= self._by_user.get(user_id, set())
        else:
            concerned |= self._by_project.get(audience.project_id, set())
        return concerned

    def _move_on(self, before: int, woken: Iterable[Session]) -> None:
        """Wake the streams the new slots may concern; move the idle others past them."""
        woken = set(woken)
        for session in self.sessions:
            if session in woken or session.busy or session.seq != before or session.inbox:
                session.wake.set()
            else:
                session.seq = self.seq
                session.covered = (self.position, self.notified)
                session.position = max(session.position, self.position)
                session.notified = max(session.notified, self.notified)

    def stop(self) -> None:
        self._follower.stop()


def _discard(index: dict[Any, set[Session]], key: Any, session: Session) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(session)
        if not members:
            del index[key]
