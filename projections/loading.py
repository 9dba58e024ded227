"""A rebuild's bulk load: batches of the log applied one transaction each, in the rebuild's own
process or, for a model that allows it (`ReadModel.rebuild_shards`) and a log worth it, split
across processes.

Split, every process applies its shard's events from position 0 up to the same position (the
head when the rebuild began), each keeping what it learns from batch to batch. Only the
rebuild's own process (shard 0) records the tracking position; the rebuild waits for every
shard and fails if any does, and a failed rebuild's version is dropped, never made live. Then
the rebuild goes on alone (indexes, catch-up, switch) with a projection that reads back what
the shards wrote.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.process import BaseProcess

from projections.base import ReadModel, ReadModelView, Shard, conninfo, open_view
from projections.errors import ProjectionError
from projections.readahead import ReadAhead

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]

# Below this many events, starting processes costs more than it saves.
SHARD_FROM_EVENTS = 200_000
# A shard that has said nothing for this long while its process is gone has died.
_POLL_SECONDS = 1.0


def drain(
    view: ReadModelView,
    projection: ReadModel,
    source: str,
    batch_size: int,
    progress: Progress,
    *,
    after: int | None = None,
    until: int | None = None,
    track: bool = True,
) -> int:
    """Process batches (one transaction each) from the tracked position (or `after`) up to the
    head (or `until`); return the events processed. Untracked, only the rows are written."""
    position, events = (view.position() if after is None else after), 0
    keep = projection.keep if projection.shard is not None else None
    with ReadAhead(source, position, view.model.topics, batch_size, until=until,
                   keep=keep) as batches:
        for batch in batches:
            with view.transaction() as cur:
                if track:
                    view.record(cur, projection, batch)
                elif batch.events:
                    projection.apply(cur, batch.events)
            progress(batch.position - position)
            position, events = batch.position, events + len(batch.events)
    return events


def shards_for(model: type[ReadModel], events: int) -> int:
    """How many processes load `events` events of `model`."""
    return model.rebuild_shards if events >= SHARD_FROM_EVENTS else 1


def load_alone(view: ReadModelView, source: str, batch_size: int, progress: Progress) -> int:
    """The bulk load in this process, from position 0 with what it learns kept."""
    projection = view.model(view)
    projection.sole_writer = True
    return drain(view, projection, source, batch_size, progress)


def load_sharded(
    view: ReadModelView, env: Mapping[str, str], until: int, batch_size: int,
    progress: Progress, parts: int,
) -> int:
    """The bulk load up to `until` in `parts` processes: shard 0 here, the others spawned."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[tuple[int, int, str]] = context.Queue()
    others = [
        context.Process(
            target=_load_part, name=f"{view.model.name}-shard-{part}", daemon=True,
            args=(view.model, dict(env), view.version, Shard(part, parts), until, batch_size,
                  results),
        )
        for part in range(1, parts)
    ]
    for process in others:
        process.start()
    try:
        projection = view.model(view)
        projection.sole_writer, projection.shard = True, Shard(0, parts)
        events = drain(view, projection, conninfo(env), batch_size, progress, until=until)
        return events + _gather(others, results)
    finally:
        for process in others:
            if process.is_alive():
                process.terminate()
            process.join()


def _gather(others: Sequence[BaseProcess], results: multiprocessing.Queue[tuple[int, int, str]]
            ) -> int:
    events, waiting = 0, len(others)
    while waiting:
        try:
            part, count, error = results.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            dead = [p for p in others if p.exitcode not in (None, 0)]
            if dead:
                raise ProjectionError(
                    f"rebuild shard {dead[0].name} died (exit code {dead[0].exitcode})"
                ) from None
            continue
        if error:
            raise ProjectionError(f"rebuild shard {part} failed: {error}")
        events, waiting = events + count, waiting - 1
    return events


def stop_when_orphaned(parent: int) -> Progress:
    """A progress callback for a spawned shard that stops it once `parent`, the rebuild's
    process, is gone (killed outright): nobody would use what it writes, and the next rebuild
    drops that version."""

    def check(_: int) -> None:
        if os.getppid() != parent:
            raise ProjectionError("the rebuild's process is gone")

    return check


def _load_part(
    model: type[ReadModel], env: dict[str, str], version: int, shard: Shard, until: int,
    batch_size: int, results: multiprocessing.Queue[tuple[int, int, str]],
) -> None:
    """A spawned shard: its events from position 0 up to `until`, rows only."""
    # Imported here: the runner imports the rebuild, which imports this module.
    from projections.runner import tune_gc

    tune_gc()
    try:
        view = open_view(model, env, version)
        try:
            projection = model(view)
            projection.sole_writer, projection.shard = True, shard
            events = drain(view, projection, conninfo(env), batch_size,
                           stop_when_orphaned(os.getppid()), after=0, until=until, track=False)
        finally:
            view.datastore.close()
    except BaseException as error:  # reported to the rebuild, which fails with it
        logger.exception("rebuild shard %s of %s failed", shard.part, model.name)
        results.put((shard.part, 0, f"{type(error).__name__}: {error}"))
        return
    results.put((shard.part, events, ""))
