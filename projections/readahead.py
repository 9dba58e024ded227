"""Read-ahead for bulk loads: the next batches of events are read and decoded on a connection of
their own while the current one is written, so PostgreSQL reading the log overlaps the projector's
work instead of alternating with it (a rebuild is otherwise one long sequence of waits).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType

import psycopg
from psycopg.rows import DictRow, dict_row

from eventlog.reading import Batch, read_batch

_DONE = object()


class ReadAhead:
    """Iterates over the batches after `after` up to the head (or `until`), read `depth`
    batches ahead; `keep` as `read_batch`'s.

    One batch ahead already overlaps reading with writing; each more only holds memory.
    """

    def __init__(
        self, conninfo: str, after: int, topics: Sequence[str], batch_size: int, depth: int = 1,
        *, until: int | None = None, keep: Callable[[DictRow], bool] | None = None,
    ) -> None:
        self._conninfo = conninfo
        self._after = after
        self._topics = topics
        self._batch_size = batch_size
        self._until = until
        self._keep = keep
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="readahead", daemon=True)

    def __enter__(self) -> ReadAhead:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[Batch]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Batch)
            yield item

    def _read(self) -> None:
        try:
            with psycopg.connect(self._conninfo, row_factory=dict_row) as conn:
                position = self._after
                while not self._stop.is_set():
                    with conn.transaction(), conn.cursor() as cur:
                        batch = read_batch(cur, position, self._topics, self._batch_size,
                                           until=self._until, keep=self._keep)
                    if batch.position <= position:
                        break
                    self._put(batch)
                    position = batch.position
            self._put(_DONE)
        except BaseException as error:
            self._put(error)

    def _put(self, item: object) -> None:
        """Hand over `item`, unless the consumer has gone (then nobody would take it)."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
