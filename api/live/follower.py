"""The one follower of the log in each API process: a thread that reads every new event once,
decodes it once and prepares its frames once for all the process's streams.

It wakes on the write side's NOTIFY (and on the projectors', for notifications), reads a batch
with `eventlog.feed.read_feed`, brings the ticket audiences up to date, and hands the batch to the
hub on the event loop, waiting for the hub to take it (so a slow loop slows the reading, not
memory). Notifications come from the notifications model, never ahead of the events it has
handed over, so a notification follows the event it is about. With no stream open it stops
reading; when one opens it starts again at the head (the streams catch up from the log).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import Connection, sql
from psycopg.rows import DictRow, dict_row

from api.live.slots import (
    EventSlot,
    event_slot,
    message_authors,
    notification_slot,
    ticket_ids,
)
from domain.ticket import Ticket
from eventlog.feed import read_feed
from eventlog.reading import EVENTS_CHANNEL, head
from projections import notifications, users
from projections.base import POSITIONS_CHANNEL

if TYPE_CHECKING:
    from api.live.hub import LiveHub

log = logging.getLogger("trail.live")

NOTIFICATIONS = notifications.NotificationsProjection.name
BATCH = 500
# How long an idle follower waits for a NOTIFY before looking at its stop flag again.
IDLE_WAKE = 1.0
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


def model_position(conn: Connection[DictRow], name: str) -> int:
    """How far read model `name` has got; 0 before any projector has run."""
    try:
        row = conn.execute("SELECT position FROM projection_versions WHERE name = %s", (name,),
                           prepare=True).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row["position"]) if row else 0


def prepare(conn: Connection[DictRow], hub: LiveHub, after: int, limit: int,
            upto: int | None = None) -> tuple[list[EventSlot], int]:
    """The event slots after `after` (at most `limit`, up to `upto`), with every ticket they
    concern known to the audiences, and the position read up to."""
    feed = read_feed(conn, after, limit, upto)
    if not feed.entries:
        return [], feed.position
    concerned = ticket_ids(feed.entries)
    if upto is None:
        # The hub's own reading: the events pass now, and the audiences follow them. A ticket
        # it does not know is read as it stood before this batch at least (the batch's own
        # events then apply on top), or known from its creation in the batch.
        created = {e.entry.ticket_id for e in feed.entries
                   if isinstance(e.event, Ticket.Created)}
        hub.audiences.ensure(conn, concerned - created, after)
        hub.audiences.follow(feed.entries)
    else:
        # A catch-up reads the past: the tickets are known as they are now.
        hub.audiences.ensure(conn, concerned, 0)
    authors = users.refs(conn, message_authors(feed.entries))
    audiences = hub.audiences.snapshot(concerned)
    return [event_slot(item, audiences, authors) for item in feed.entries], feed.position


class Follower:
    def __init__(self, hub: LiveHub) -> None:
        self.hub = hub
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._position: int | None = None
        self._notified = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._thread is None:
            self.loop = loop
            self._thread = threading.Thread(target=self._run, name="trail-live", daemon=True)
            self._thread.start()
        self.wanted.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                self._follow()
                failures = 0
            except psycopg.Error:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                log.warning("live follower lost the database; again in %.1f s", delay,
                            exc_info=True)
                failures += 1
                # Restart at the head: the streams catch up from their own positions.
                self._position = None
                self.stopping.wait(delay)

    def _follow(self) -> None:
        conninfo = self.hub.pool.conninfo
        if callable(conninfo):
            conninfo = conninfo()
        with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
            for channel in (EVENTS_CHANNEL, POSITIONS_CHANNEL):
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            while not self.stopping.is_set():
                if not self.hub.sessions:
                    self._position = None
                    self.wanted.clear()
                    self.wanted.wait(IDLE_WAKE)
                    continue
                if self._position is None:
                    self._resume(conn)
                if not self._step(conn):
                    for _ in conn.notifies(timeout=IDLE_WAKE, stop_after=1):
                        pass

    def _resume(self, conn: Connection[DictRow]) -> None:
        self.hub.audiences.clear()
        position = head(conn)
        self._notified = min(position, model_position(conn, NOTIFICATIONS))
        self._position = position
        self._hand_over(self.hub.resumed, position, self._notified)

    def _step(self, conn: Connection[DictRow]) -> bool:
        """Hand over one batch and the notifications up to it; True if there may be more."""
        assert self._position is not None
        slots, position = prepare(conn, self.hub, self._position, BATCH)
        moved = position > self._position
        if moved:
            self._position = position
            self._hand_over(self.hub.publish_events, slots, position)
        notified = min(self._position, model_position(conn, NOTIFICATIONS))
        if notified > self._notified:
            rows = []
            if self.hub.wants_notifications:
                rows = notifications.notifications_between(conn, self._notified, notified)
                self.hub.audiences.ensure(conn, {r.notification.ticket_id for r in rows},
                                          notified)
            self._notified = notified
            self._hand_over(self.hub.publish_notices, notification_slot(notified, rows))
        return moved and len(slots) >= BATCH

    def _hand_over(self, method: Callable[..., None], *args: Any) -> None:
        """Run `method(*args)` on the event loop and wait until it has run."""
        assert self.loop is not None
        done = threading.Event()

        def run() -> None:
            try:
                method(*args)
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        while not done.wait(IDLE_WAKE):
            if self.stopping.is_set() or self.loop.is_closed():
                return
