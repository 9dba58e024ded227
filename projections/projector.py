"""One projector for several read models: each batch of the log is read and decoded once, applied
to every model, and committed with every model's tracking position in ONE transaction.

N runners of one model each would each wake on every commit, read and decode the same events and
commit their own transaction: most of the read side's cost per command. Here a batch costs one
read, one decode and one commit, whatever the number of models; each model still keeps its own
tracking row in its own schema (so rebuilds, status and `Trail-Min-Position` are unchanged) and
its own advisory lock (so a second projector stands by).

The models may stand at different positions (a model rebuilt blue/green goes live at the head
while the others may be a little behind): a batch starts after the lowest and each model applies
only the events after its own position. A version switch by a rebuild rolls the batch back and
the projector reopens that model on its new version.

A model whose rows can be rebuilt commits with `synchronous_commit = off`: a crash may lose its
last milliseconds of commits, rows and tracking together, and they are simply applied again. The
outbox is never run this way (its rows carry delivery state), so a projector that runs it
commits synchronously.

An error in a model stops the projector at the failing event: the events before it are committed
for every model, one by one, and `ProjectorFailed` names the model and the position. A lost
database connection is not an error of the model: the projector reconnects with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from psycopg import Cursor, sql
from psycopg.rows import DictRow, dict_row

from eventlog.reading import APPLICATION, EVENTS_CHANNEL, Batch, Recorded, read_batch
from projections.base import POSITIONS_CHANNEL, ReadModel, ReadModelView, conninfo, open_view
from projections.errors import ProjectorFailed
from projections.rebuild import ensure_current
from projections.runner import (
    BATCH_SIZE,
    CONNECTION_LOST,
    IDLE_WAKE,
    NOT_THE_MODELS,
    projection_lock,
)
from projections.versions import VersionChanged

logger = logging.getLogger(__name__)

# Waits between reconnection attempts after the database went away: short at first, capped.
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
# A session that ran this long had reconnected: the next loss starts the delays over.
RECONNECTED_AFTER = 10.0

_ADVANCE = sql.SQL(
    "UPDATE projection_versions AS p SET position = greatest(p.position, %s) "
    "FROM unnest(%s::text[], %s::int[]) AS v(name, version) "
    "WHERE p.name = v.name AND p.version = v.version RETURNING p.name"
)


@dataclass
class _Live:
    """One model as the projector runs it: its live version's view and its position."""

    model: type[ReadModel]
    view: ReadModelView
    projection: ReadModel
    position: int
    topics: frozenset[str] = field(init=False)
    search_path: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.topics = frozenset(self.model.topics)
        self.search_path = sql.SQL("SET LOCAL search_path TO {}").format(
            sql.Identifier(self.view.schema)).as_bytes(None)

    def wants(self, recorded: Recorded) -> bool:
        return recorded.position > self.position and (
            not self.topics or get_topic(type(recorded.event)) in self.topics
        )

    def close(self) -> None:
        self.view.datastore.close()


class Projector:
    def __init__(
        self,
        models: Sequence[type[ReadModel]],
        env: Mapping[str, str],
        *,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.models = tuple(models)
        self.env = env
        self.batch_size = batch_size
        self.live: dict[str, _Live] = {}
        self._conn: psycopg.Connection[DictRow] | None = None
        self._listener: psycopg.Connection[Any] | None = None
        # A model whose rows carry state no replay gives back must commit synchronously.
        self._synchronous = any(not m.rebuildable for m in self.models)
        topics = [m.topics for m in self.models]
        self._topics: tuple[str, ...] = (
            () if any(not t for t in topics) else tuple(sorted({x for t in topics for x in t}))
        )

    @property
    def position(self) -> int:
        return min((live.position for live in self.live.values()), default=0)

    # --- running ---------------------------------------------------------------------------

    def run(self, stopping: threading.Event) -> None:
        """Keep every model current until `stopping` is set; reconnect after a lost database."""
        failures = 0
        while not stopping.is_set():
            began = time.monotonic()
            try:
                self._serve(stopping)
                return
            except CONNECTION_LOST as error:
                if time.monotonic() - began >= RECONNECTED_AFTER:
                    failures = 0
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.warning("projector lost the database (%s); again in %.1f s", error, delay)
                stopping.wait(delay)

    def catch_up(self) -> int:
        """Process everything recorded so far; return the lowest position reached."""
        with self._session(threading.Event()) as ready:
            assert ready
            while self.step():
                pass
        return self.position

    def _serve(self, stopping: threading.Event) -> None:
        with self._session(stopping) as ready:
            if not ready:
                return
            listener = self._listener
            assert listener is not None
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_CHANNEL)))
            logger.info("projector running %s from position %s",
                        ", ".join(self.live), self.position)
            while not stopping.is_set():
                if not self.step():
                    for _ in listener.notifies(timeout=IDLE_WAKE, stop_after=1):
                        pass

    @contextlib.contextmanager
    def _session(self, stopping: threading.Event) -> Iterator[bool]:
        """Hold every model's runner lock (on one connection) and open the models."""
        with (
            psycopg.connect(conninfo(self.env), autocommit=True) as listener,
            contextlib.ExitStack() as locks,
        ):
            self._listener = listener
            for model in self.models:
                if not locks.enter_context(projection_lock(listener, model.name, stopping)):
                    yield False
                    return
            with psycopg.connect(conninfo(self.env), row_factory=dict_row) as conn:
                if not self._synchronous:
                    conn.execute("SET synchronous_commit TO off")
                    conn.commit()
                self._conn = conn
                try:
                    for model in self.models:
                        self._open(model)
                    yield True
                finally:
                    self._close()
                    self._conn = None

    def _open(self, model: type[ReadModel]) -> None:
        version = ensure_current(model, self.env)
        view = open_view(model, self.env, version)
        self.live[model.name] = _Live(model, view, model(view), view.position())

    def _close(self) -> None:
        for live in self.live.values():
            live.close()
        self.live.clear()

    # --- one batch -------------------------------------------------------------------------

    def step(self) -> bool:
        """Process one batch; True when more events may be waiting."""
        try:
            return self._step()
        except VersionChanged as changed:
            for name in changed.args:
                logger.info("projection %s: a rebuild switched versions; following it", name)
                self.live.pop(name).close()
                self._open(next(m for m in self.models if m.name == name))
            return True

    def _step(self) -> bool:
        conn = self._connection()
        start = self.position
        batch: Batch | None = None
        try:
            with conn.transaction(), conn.cursor() as cur:
                batch = read_batch(cur, start, self._topics, self.batch_size)
                if batch.position <= start:
                    return False
                self._record(cur, batch)
        except NOT_THE_MODELS:
            raise
        except Exception as error:
            if batch is None:
                raise
            self._fail(batch, error)
        assert batch is not None
        for live in self.live.values():
            live.position = max(live.position, batch.position)
        return len(batch.events) == self.batch_size

    def _record(self, cur: Cursor[DictRow], batch: Batch) -> None:
        """Every model's rows and tracking for `batch`, in the caller's transaction."""
        behind = [live for live in self.live.values() if live.position < batch.position]
        # The version check comes first: after a switch the old tables may be gone.
        self._advance(cur, behind, batch.position)
        for live in behind:
            events = [r for r in batch.events if live.wants(r)]
            if events:
                cur.execute(live.search_path)
                live.projection.apply(cur, events)
        # The tracking rows name their schema: sent together, one round trip for all models.
        with cur.connection.pipeline():
            for live in behind:
                live.view._insert_tracking(cur, Tracking(APPLICATION, batch.position))

    def _advance(self, cur: Cursor[DictRow], behind: list[_Live], position: int) -> None:
        """Publish the models' new position, checking that each still writes its live version."""
        names = [live.model.name for live in behind]
        rows = cur.execute(
            _ADVANCE, (position, names, [live.view.version for live in behind]), prepare=True
        ).fetchall()
        switched = set(names) - {row["name"] for row in rows}
        if switched:
            raise VersionChanged(*sorted(switched))
        # One notification for all of them: waiters parse "name,name,…:position".
        cur.execute("SELECT pg_notify(%s, %s)",
                    (POSITIONS_CHANNEL, f"{','.join(names)}:{position}"), prepare=True)

    def _fail(self, batch: Batch, error: Exception) -> None:
        """Commit the events before the failing one, one by one, then stop at that one."""
        conn = self._connection()
        for recorded in batch.events:
            single = Batch((recorded,), recorded.position)
            try:
                with conn.transaction(), conn.cursor() as cur:
                    self._record(cur, single)
            except VersionChanged:
                raise
            except Exception as single_error:
                topic = get_topic(type(recorded.event))
                failing = self._failing_model(recorded)
                logger.exception("projection %s failed at position %s (%s)",
                                 failing, recorded.position, topic)
                raise ProjectorFailed(failing, recorded.position, topic) from single_error
            for live in self.live.values():
                live.position = max(live.position, recorded.position)
        logger.error("projector failed on the batch ending at %s", batch.position)
        raise ProjectorFailed(",".join(self.live), batch.position, "batch") from error

    def _failing_model(self, recorded: Recorded) -> str:
        """Which model refuses `recorded`: each is tried alone, in a transaction rolled back."""
        conn = self._connection()
        for live in self.live.values():
            if not live.wants(recorded):
                continue
            try:
                with conn.transaction(force_rollback=True), conn.cursor() as cur:
                    cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(
                        sql.Identifier(live.view.schema)))
                    live.projection.apply(cur, [recorded])
            except Exception:
                return live.model.name
        return ",".join(self.live)

    def _connection(self) -> psycopg.Connection[DictRow]:
        assert self._conn is not None, "the projector is not running"
        return self._conn


def run_projections(
    models: Sequence[type[ReadModel]], env: Mapping[str, str], stopping: threading.Event
) -> None:
    """Keep `models` current until `stopping` is set; raises `ProjectorFailed` when one fails."""
    Projector(models, env).run(stopping)
