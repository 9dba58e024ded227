"""Runs projections: one runner per projection, each resuming from its tracking position.

A runner holds a session advisory lock on its projection's name for as long as it runs, so at
most one process writes a projection; a second `trail projector` stands by and takes over when
the first one's connection goes away. It reads the log in batches and commits each batch's rows,
its tracking position and its published position in one transaction, then waits for the write
side's NOTIFY on the events table, so it reacts within milliseconds without polling.

An error in a projector stops its runner at the failing event, logged with the event's position,
and raises, so nothing is ever skipped. `trail projector` runs its models together instead
(`projections.projector`); a runner of one model serves the outbox and tests.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from eventsourcing import persistence
from eventsourcing.utils import get_topic
from psycopg import sql

from eventlog.reading import EVENTS_CHANNEL, Batch, read_batch
from projections.base import (
    LOCK_CLASS,
    ReadModel,
    ReadModelView,
    conninfo,
    open_view,
)
from projections.errors import ProjectorFailed
from projections.rebuild import ensure_current
from projections.versions import VersionChanged, advance

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# A lost or refused connection, from psycopg or from the event store's wrappers of its errors.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    psycopg.OperationalError, psycopg.InterfaceError,
    persistence.OperationalError, persistence.InterfaceError,
)
# Errors that stop a batch without being the model's: a rebuild's switch, a lost connection.
NOT_THE_MODELS: tuple[type[Exception], ...] = (VersionChanged, *CONNECTION_LOST)
# How often an idle runner looks at its stop flag; new events wake it at once.
IDLE_WAKE = 0.25


@contextlib.contextmanager
def projection_lock(
    conn: psycopg.Connection[Any], name: str, stopping: threading.Event
) -> Iterator[bool]:
    """Hold the advisory lock that makes this the one runner of `name`; False if stopped first."""
    key = f"run:{name}"
    waiting_logged = False
    while not stopping.is_set():
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, key)
        ).fetchone()
        if row and row[0]:
            try:
                yield True
            finally:
                # A broken connection has already dropped the lock with its session; an error
                # here must not hide the one that broke it.
                with contextlib.suppress(psycopg.Error):
                    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS, key))
            return
        if not waiting_logged:
            logger.info("another process runs projection %s; standing by", name)
            waiting_logged = True
        stopping.wait(1.0)
    yield False


class Runner:
    """Keeps one projection's live version current."""

    def __init__(
        self,
        model: type[ReadModel],
        env: Mapping[str, str],
        *,
        batch_size: int = BATCH_SIZE,
        linger: float = 0.0,
    ) -> None:
        self.model = model
        self.env = env
        self.batch_size = batch_size
        # Seconds to let commits gather after a wake-up before reading them (see `run`).
        self.linger = linger
        self.position = 0
        self._view: ReadModelView | None = None
        self._projection: ReadModel | None = None

    def run(self, stopping: threading.Event) -> None:
        """Process events until `stopping` is set; raise `ProjectorFailed` on a projector error."""
        with (
            psycopg.connect(conninfo(self.env), autocommit=True) as control,
            projection_lock(control, self.model.name, stopping) as locked,
        ):
            if not locked:
                return
            control.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_CHANNEL)))
            try:
                self._open()
                while not stopping.is_set():
                    if not self.step():
                        self._wait(control, stopping)
            finally:
                self._close()

    def _wait(self, control: psycopg.Connection[Any], stopping: threading.Event) -> None:
        """Until the write side commits again. A follower whose readers are not waiting on it
        (emails, webhooks) lingers a moment after the wake-up: under load the commits of that
        moment then cost one batch (one read, one transaction) instead of one each."""
        woken = any(True for _ in control.notifies(timeout=IDLE_WAKE, stop_after=1))
        if woken and self.linger:
            stopping.wait(self.linger)
            # The commits of the pause are read next anyway: their wake-ups are spent.
            for _ in control.notifies(timeout=0.0):
                pass

    def catch_up(self) -> int:
        """Process everything recorded so far (under the runner lock); return the position."""
        with (
            psycopg.connect(conninfo(self.env), autocommit=True) as control,
            projection_lock(control, self.model.name, threading.Event()),
        ):
            self._open()
            try:
                while self.step():
                    pass
            finally:
                self._close()
        return self.position

    def step(self) -> bool:
        """Process one batch; True when more events may be waiting."""
        try:
            return self._step()
        except VersionChanged:
            logger.info("projection %s: a rebuild switched versions; following it", self.model.name)
            self._close()
            self._open()
            return True

    def _step(self) -> bool:
        view, projection = self._current()
        batch: Batch | None = None
        try:
            with view.transaction() as cur:
                batch = read_batch(cur, self.position, self.model.topics, self.batch_size)
                if batch.position <= self.position:
                    return False
                # The version check comes first: after a switch the old tables may be gone.
                advance(cur, self.model.name, view.version, batch.position)
                view.record(cur, projection, batch)
        except NOT_THE_MODELS:
            # A lost connection is not the model's error: whoever runs the runner reconnects
            # and the batch is read again.
            raise
        except Exception as error:
            if batch is None:
                raise
            self._fail(batch, error)
        assert batch is not None
        self.position = batch.position
        return len(batch.events) == self.batch_size

    def _fail(self, batch: Batch, error: Exception) -> None:
        """Commit the events before the failing one, one by one, then stop at that one."""
        view, projection = self._current()
        for recorded in batch.events:
            single = Batch((recorded,), recorded.position)
            try:
                with view.transaction() as cur:
                    advance(cur, self.model.name, view.version, recorded.position)
                    view.record(cur, projection, single)
            except NOT_THE_MODELS:
                raise
            except Exception as single_error:
                topic = get_topic(type(recorded.event))
                logger.exception(
                    "projection %s failed at position %s (%s)",
                    self.model.name, recorded.position, topic,
                )
                raise ProjectorFailed(self.model.name, recorded.position, topic) from single_error
            self.position = recorded.position
        logger.error("projection %s failed on batch ending at %s", self.model.name, batch.position)
        raise ProjectorFailed(self.model.name, batch.position, "batch") from error

    def _current(self) -> tuple[ReadModelView, ReadModel]:
        assert self._view is not None and self._projection is not None
        return self._view, self._projection

    def _open(self) -> None:
        version = ensure_current(self.model, self.env)
        self._view = open_view(self.model, self.env, version)
        self._projection = self.model(self._view)
        self.position = self._view.position()
        logger.info(
            "projection %s: version %s from position %s", self.model.name, version, self.position
        )

    def _close(self) -> None:
        if self._view is not None:
            self._view.datastore.close()
        self._view = self._projection = None


def tune_gc() -> None:
    """Collect cycles less often, once per projector process (entry points call this).

    A batch keeps tens of thousands of decoded events alive, and every default gen-0 collection
    walks them all again: it made decoding 2.5 times slower. Events hold no reference cycles,
    so reference counting frees them without the collector.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def catch_up(
    model: type[ReadModel], env: Mapping[str, str], *, batch_size: int | None = None
) -> int:
    """Bring `model`'s live version up to the current head; return its position."""
    return Runner(model, env, batch_size=batch_size or BATCH_SIZE).catch_up()
