"""A stream's own loop: what one WebSocket or SSE response sends, in order.

It reads the hub's ring after its `seq`; when the ring cannot serve it (a replay from `after`, a
client too slow for the ring) it reads the log and the notifications model itself, with the same
slots and the same rules, up to what the ring covers, then goes on from the ring. Requests of the
stream's own (a subscription, verifying the account again) run in this loop too, between slots,
so everything a stream sends is in order and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread

from api.live.follower import prepare
from api.live.hub import REVERIFY, LiveHub
from api.live.session import FORBIDDEN, UNAUTHENTICATED, Output, Session, Topics
from api.live.slots import EventSlot, NotificationSlot, error_frame, notification_slot
from commands.errors import Unauthenticated
from commands.permissions import Actor
from projections import notifications

# Events read from the log per step of a catch-up.
CHUNK = 500
# A request of the stream's own: what it sends for it, in order with its frames.
Request = Callable[["Stream"], AsyncIterator[Output]]
# Verifies the account as it is now (`Accounts.actor` with the token's issue time).
Verify = Callable[[], Awaitable[Actor]]


class Stream:
    def __init__(self, session: Session, hub: LiveHub, verify: Verify,
                 heartbeat: float | None = None) -> None:
        self.session = session
        self.hub = hub
        self.verify = verify
        self.heartbeat = heartbeat

    async def outputs(self) -> AsyncIterator[Output | None]:
        """What to send, in order, until the session closes (see `session.closing`); None is a
        heartbeat, when there was nothing to send for `heartbeat` seconds."""
        session = self.session
        session.post(REVERIFY)
        while session.closing is None:
            session.busy = True
            try:
                async for output in self._step():
                    yield output
            finally:
                session.busy = False
            if session.closing is None and not self._pending():
                session.wake.clear()
                if not await self._wait():
                    yield None

    async def _step(self) -> AsyncIterator[Output]:
        session = self.session
        while session.inbox and session.closing is None:
            request = session.inbox.popleft()
            async for output in self._request(request):
                yield output
        if session.closing is not None or not session.started:
            return
        if self._behind():
            async for output in self._catch_up():
                yield output
            return
        # What the ring covers up to its last slot now: more may come while frames are sent.
        coverage = (self.hub.position, self.hub.notified)
        slots = self.hub.slots_after(session.seq) or []
        for slot in slots:
            for output in self._take(slot):
                yield output
            session.seq = slot.seq
            if session.closing is not None or session.inbox:
                return
        session.covered = coverage
        for warning in self._warnings():
            yield warning

    def _pending(self) -> bool:
        session = self.session
        if session.inbox:
            return True
        return session.started and (self._behind() or session.seq < self.hub.seq)

    def _behind(self) -> bool:
        session = self.session
        position, notified = session.covered
        return (self.hub.slots_after(session.seq) is None or session.position < position
                or session.notified < notified)

    async def _wait(self) -> bool:
        """Wait to be woken; False when the heartbeat is due first."""
        expires_at = self.session.expires_at
        bounds = [self.heartbeat] if self.heartbeat is not None else []
        if expires_at is not None:
            bounds.append(max((expires_at - datetime.now(UTC)).total_seconds(), 0))
        try:
            await asyncio.wait_for(self.session.wake.wait(), timeout=min(bounds, default=None))
        except TimeoutError:
            if expires_at is not None and datetime.now(UTC) >= expires_at:
                self.session.close(UNAUTHENTICATED, "the token expired")
                return True
            return False
        return True

    def _take(self, slot: EventSlot | NotificationSlot, only: Topics | None = None
              ) -> list[Output]:
        """The outputs of a slot the stream has not had yet; moves its positions past it."""
        session, audiences = self.session, self.hub.audiences
        if isinstance(slot, NotificationSlot):
            outputs = session.notices(slot, audiences, only)
            if only is None:
                session.notified = max(session.notified, slot.position)
            return outputs
        if slot.position <= session.position and only is None:
            return []
        outputs = session.outputs(slot, audiences, only)
        if only is None:
            session.position = slot.position
        return outputs

    def _warnings(self) -> list[Output]:
        warnings = [error_frame(w) for w in self.session.warnings]
        self.session.warnings.clear()
        return list(warnings)

    async def _request(self, request: Any) -> AsyncIterator[Output]:
        if request == REVERIFY:
            await self._reverify()
            return
        async for output in request(self):
            yield output

    async def _reverify(self) -> None:
        try:
            actor = await self.verify()
        except Unauthenticated as refused:
            self.session.close(FORBIDDEN, str(refused))
            return
        self.session.reverified(actor, self.hub.audiences)

    async def _catch_up(self) -> AsyncIterator[Output]:
        """Read the log up to what the ring covers now, then go on from the ring."""
        session, hub = self.session, self.hub
        seq, (position, notified) = hub.seq, (hub.position, hub.notified)
        async for output in self.replay(None, session.position, position,
                                        session.notified, notified):
            yield output
        session.seq, session.covered = seq, (position, notified)

    async def replay(self, only: Topics | None, after: int, upto: int, notified_after: int,
                     notified_upto: int) -> AsyncIterator[Output]:
        """The frames of events in (after, upto] and of notifications in (notified_after,
        notified_upto], in log order; for `only` these topics, or for the stream's own (then
        its positions move past them)."""
        wants = (only or self.session.topics).notifications
        while after < upto and self.session.closing is None:
            slots, reached, notices = await to_thread.run_sync(
                self._read, after, upto, notified_after if wants else None,
                min(notified_upto, upto))
            for slot in _merged(slots, notices):
                for output in self._take(slot, only):
                    yield output
            after = reached
            if notices is not None:
                notified_after = max(notified_after, notices.position)
            if only is None:
                self.session.position = max(self.session.position, reached)
        if wants and notified_after < notified_upto and self.session.closing is None:
            _, _, notices = await to_thread.run_sync(
                self._read, upto, upto, notified_after, notified_upto)
            if notices is not None:
                for output in self._take(notices, only):
                    yield output
        if only is None:
            self.session.notified = max(self.session.notified, notified_upto)

    def _read(self, after: int, upto: int, notified_after: int | None, notified_upto: int
              ) -> tuple[list[EventSlot], int, NotificationSlot | None]:
        with self.hub.pool.connection() as conn:
            slots, reached = ([], upto) if after >= upto else prepare(
                conn, self.hub, after, CHUNK, upto)
            if notified_after is None:
                return slots, reached, None
            until = min(reached, notified_upto)
            rows = notifications.notifications_between(conn, notified_after, until)
            self.hub.audiences.ensure(conn, {r.notification.ticket_id for r in rows}, 0)
            return slots, reached, notification_slot(until, rows)


def _merged(slots: list[EventSlot], notices: NotificationSlot | None
            ) -> list[EventSlot | NotificationSlot]:
    """Events and notifications in log order: a notification right after its event."""
    if notices is None or not notices.notices:
        return [*slots, *([notices] if notices else [])]
    merged: list[EventSlot | NotificationSlot] = []
    pending = list(notices.notices)
    for slot in slots:
        merged.append(slot)
        here = [n for n in pending if n.position <= slot.position]
        if here:
            merged.append(NotificationSlot(slot.position, here))
            pending = pending[len(here):]
    merged.append(NotificationSlot(notices.position, pending))
    return merged
