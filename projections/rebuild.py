"""Blue/green lifecycle of a read model: first install, rebuild from position 0, switch.

A rebuild fills version N+1 from position 0 in large batches (one transaction each, rows and
tracking together) while version N keeps serving reads and its live runner keeps it current.
Secondary indexes are built once the bulk load is done. Then, in ONE transaction, the rebuild
locks the registry row (waiting for the live runner's batch in flight), processes the few events
recorded since, repoints the public views and records N+1 as live. The live runner's next batch
finds the version changed and resumes on N+1 from N+1's tracking position; version N is dropped.
Readers see N or N+1, whole, never a mix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import NamedTuple

import psycopg
import psycopg.errors
from eventsourcing.persistence import OperationalError
from psycopg import Cursor, sql
from psycopg.rows import DictRow
from tqdm import tqdm

from eventlog.reading import head, read_batch
from projections.base import LOCK_CLASS, ReadModel, ReadModelView, conninfo, open_view
from projections.errors import NotRebuildable, ProjectionError, RebuildInProgress
from projections.loading import drain, load_alone, load_sharded, shards_for
from projections.versions import (
    Live,
    drop_version,
    live,
    lock_registry,
    publish,
    stale_versions,
)

logger = logging.getLogger(__name__)

REBUILD_BATCH = 50_000
SWITCH_ATTEMPTS = 10


class Rebuilt(NamedTuple):
    name: str
    version: int
    position: int
    """The log position the new version went live at."""
    events: int
    """The events of the model's topics applied on the way there."""
    seconds: float

    @property
    def rate(self) -> float:
        """Events applied per second."""
        return self.events / self.seconds if self.seconds else 0.0


def install(model: type[ReadModel], env: Mapping[str, str]) -> Live:
    """The live version of `model`, creating version 1 (empty, with its views) if there is none."""
    view = open_view(model, env, 1)
    try:
        with view.transaction() as cur:
            lock_registry(cur)
            current = live(cur, model.name)
            if current is not None:
                return current
            for version in stale_versions(cur, model.name, keep=0):
                drop_version(cur, model.name, version)
            view.create_in(cur, indexes=True)
            publish(cur, model, 1, 0)
            return Live(1, model.revision, 0)
    finally:
        view.datastore.close()


def ensure_current(model: type[ReadModel], env: Mapping[str, str]) -> int:
    """The live version, rebuilt first when it was built by another revision of the code."""
    current = install(model, env)
    if current.revision == model.revision:
        return current.version
    if not model.rebuildable:
        raise ProjectionError(
            f"projection {model.name!r} is at revision {current.revision} but the code is at "
            f"{model.revision}, and it must not be replayed: migrate its tables instead"
        )
    logger.warning(
        "projection %s: revision %s is live, the code is at %s; rebuilding",
        model.name, current.revision, model.revision,
    )
    return rebuild(model, env).version


def rebuild(
    model: type[ReadModel],
    env: Mapping[str, str],
    *,
    show_progress: bool = False,
    batch_size: int = REBUILD_BATCH,
) -> Rebuilt:
    """Build a new version of `model` from position 0, switch to it, drop the old one."""
    if not model.rebuildable:
        raise NotRebuildable(f"projection {model.name!r} must not be replayed")
    started = time.perf_counter()
    with psycopg.connect(conninfo(env), autocommit=True) as control:
        _lock_rebuild(control, model.name)
        old = install(model, env)
        version = _next_version(control, model.name, old.version)
        view = open_view(model, env, version)
        try:
            events = _fill(view, env, batch_size, show_progress)
            position, caught_up = _switch(view, batch_size)
        finally:
            view.datastore.close()
        with control.cursor(row_factory=psycopg.rows.dict_row) as cur:
            drop_version(cur, model.name, old.version)
    seconds = time.perf_counter() - started
    logger.info("projection %s: version %s live after %.1f s", model.name, version, seconds)
    return Rebuilt(model.name, version, position, events + caught_up, seconds)


def _lock_rebuild(conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    row = conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, f"rebuild:{name}")
    ).fetchone()
    if not (row and row[0]):
        raise RebuildInProgress(f"another process is rebuilding {name!r}")


def _next_version(
    conn: psycopg.Connection[tuple[object, ...]], name: str, live_version: int
) -> int:
    """A version number past every existing one; leftovers of a crashed rebuild are dropped."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        stale = stale_versions(cur, name, keep=live_version)
        for version in stale:
            drop_version(cur, name, version)
    return max([live_version, *stale]) + 1


def _fill(view: ReadModelView, env: Mapping[str, str], batch_size: int, show_progress: bool
          ) -> int:
    """Bulk-load from position 0 without secondary indexes, index, then catch up again."""
    source = conninfo(env)
    with view.transaction() as cur:
        view.create_in(cur, indexes=False)
        total = head(cur)
    parts = shards_for(view.model, total)
    with tqdm(
        total=total, desc=view.model.name, unit="ev", unit_scale=True, disable=not show_progress,
        smoothing=0.1,
    ) as bar:
        if parts > 1:
            events = load_sharded(view, env, total, batch_size, bar.update, parts)
        else:
            events = load_alone(view, source, batch_size, bar.update)
        with view.transaction() as cur:
            view.create_indexes(cur)
            for table in view.model.tables:
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(view.schema, table)))
        # What was recorded during the load, applied by a projection that reads its state back.
        events += drain(view, view.model(view), source, batch_size, bar.update)
    return events


def _switch(view: ReadModelView, batch_size: int) -> tuple[int, int]:
    """Catch up to the head and make the new version live, all in one transaction; return the
    position it went live at and the events applied on the way."""
    for attempt in range(1, SWITCH_ATTEMPTS + 1):
        try:
            with view.transaction() as cur:
                lock_registry(cur)
                live(cur, view.model.name, for_update=True)
                position, events = _catch_up_in(cur, view, batch_size)
                publish(cur, view.model, view.version, position)
                return position, events
        except OperationalError as error:
            if not isinstance(error.__cause__, psycopg.errors.LockNotAvailable):
                raise
            # Readers in long queries hold the views; retry rather than queue readers behind us.
            logger.info("switch of %s waited too long for readers (attempt %s)",
                        view.model.name, attempt)
            time.sleep(0.2 * attempt)
    raise ProjectionError(f"could not switch {view.model.name!r}: the views stayed busy")


def _catch_up_in(
    cur: Cursor[DictRow], view: ReadModelView, batch_size: int
) -> tuple[int, int]:
    projection = view.model(view)
    position, events = view.position(cur), 0
    while True:
        batch = read_batch(cur, position, view.model.topics, batch_size)
        if batch.position <= position:
            return position, events
        view.record(cur, projection, batch)
        position, events = batch.position, events + len(batch.events)
