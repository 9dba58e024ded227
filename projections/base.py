"""What every read model (and the email outbox) is built from.

A read model is a `ReadModel` subclass (in the manner of an eventsourcing `Projection`, fed
whole batches instead of single events) whose view is a
`ReadModelView` (a `PostgresTrackingRecorder`). The view owns one *version* of the model's
tables: they live in their own schema, `rm_<name>_v<version>`, next to that version's tracking
table, and the public schema holds stable VIEWs (`public.<table>`) onto the live version's
tables. A rebuild fills a new version while the old one serves reads, then repoints the views
in one transaction (see `projections/versions.py` and `projections/rebuild.py`).

Extension points (projections/outbox.py and each read model use exactly these):

    class Outbox(ReadModel):
        name = "outbox"              # unique: names the schema, the advisory lock, the status
        revision = 1                 # bump when `tables`, `indexes` or `apply` change meaning;
                                     # a runner that finds an older revision live rebuilds first
        topics = topics_of(Ticket.Created, ...)  # (eventlog.topics) only these are read
        tables = {"outbox": "CREATE TABLE outbox (...)"}   # unqualified names; each table T
                                     # is readable (and, being a simple view, updatable) as
                                     # public.T
        indexes = ("CREATE INDEX outbox_pending ON outbox (status, id)",)  # built after the
                                     # bulk load of a rebuild, before the switch
        extensions = ("btree_gin",)  # created if missing (in public) before the tables
        rebuildable = False          # a replay from position 0 must never happen (emails)
        rebuild_shards = 1           # processes a large rebuild may split the events across
                                     # (notifications: 2, by ticket); more than one means
                                     # `keep` and `self.shard` are honoured

        def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
            ...   # write rows for a whole batch with `cur`; unqualified table names resolve
                  # to this version's schema (search_path), and the caller commits the rows
                  # together with the tracking position: all or nothing, exactly once

`apply` receives every event of the batch whose topic is in `topics`, in position order. A
batch holding none of them only moves the tracking position past events the model does not read
(`apply` is not called). It must not read other models' views: they are at other positions.

Running: `projections.projector.run_projections([Tickets, Users, …], env, stopping)` runs models
together, reading each batch once and committing all of them in one transaction;
`projections.runner.Runner(Outbox, env)` runs one alone (one writer per model across processes,
resuming from the tracking position; call `projections.runner.tune_gc()` once in the process
first); tests call `projections.runner.catch_up(Model, env)` to process everything recorded so
far.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar, NamedTuple
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresFactory, PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg import Cursor, sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import DictRow

from eventlog.reading import APPLICATION, Batch, Recorded

HOME_SCHEMA = "public"
# Runners NOTIFY this channel, payload "<name>:<position>", when they commit a batch.
POSITIONS_CHANNEL = "trail_projections"
TRACKING_TABLE = "tracking"
# First key of every advisory lock the read side takes ("tr"), so they cannot collide with
# locks other code takes with the two-key form.
LOCK_CLASS = 0x7472


class Shard(NamedTuple):
    """Part `part` of `parts` (from 0), each applied by a process of its own."""

    part: int
    parts: int

    def holds(self, key: UUID) -> bool:
        """Whether the rows keyed by `key` are this shard's (by its last byte)."""
        return (key.int & 0xFF) % self.parts == self.part

    def sql(self, column: str) -> str:
        """`holds` as an SQL condition on a uuid column (a trusted name)."""
        return f"mod(get_byte(uuid_send({column}), 15), {self.parts}) = {self.part}"


def schema_name(name: str, version: int) -> str:
    return f"rm_{name}_v{version}"


class ReadModel(ABC):
    name: ClassVar[str]
    revision: ClassVar[int] = 1
    topics: tuple[str, ...] = ()
    tables: ClassVar[Mapping[str, str]] = {}
    indexes: ClassVar[Sequence[str]] = ()
    extensions: ClassVar[Sequence[str]] = ()
    rebuildable: ClassVar[bool] = True

    rebuild_shards: ClassVar[int] = 1
    """How many processes a large rebuild may split the model's events across. A model that
    allows more than one leaves out other shards' events (`keep`) and, when `shard` is set,
    writes only rows that no other shard writes (projections/sharded.py)."""

    def __init__(self, view: ReadModelView) -> None:
        self.view = view
        self.sole_writer = False
        """Set by a rebuild that applies every batch from position 0 to a version that is
        thrown away if any batch fails, and whose rows this process alone writes: `apply` may
        then keep what one batch learned for the next instead of reading it back, and what it
        has not seen does not exist."""
        self.shard: Shard | None = None

    def keep(self, row: DictRow) -> bool:
        """Whether `self.shard` applies the event of `row` (`topic`, `originator_id`)."""
        return True

    @abstractmethod
    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        """Write the rows for `events`; the caller commits them with the tracking position."""


class ReadModelView(PostgresTrackingRecorder):
    """One version of a read model's tables plus its tracking table, in its own schema."""

    def __init__(
        self, datastore: PostgresDatastore, *, model: type[ReadModel], version: int
    ) -> None:
        super().__init__(datastore, tracking_table_name=TRACKING_TABLE)
        self.model = model
        self.version = version
        self.schema = datastore.schema

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor[DictRow]]:
        """A transaction in which unqualified table names are this version's tables."""
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(
                sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(self.schema))
            )
            yield cur

    def record(self, cur: Cursor[DictRow], projection: ReadModel, batch: Batch) -> None:
        """Rows and tracking position of `batch`, in the caller's transaction."""
        if batch.events:
            projection.apply(cur, batch.events)
        self._insert_tracking(cur, Tracking(APPLICATION, batch.position))

    def position(self, cur: Cursor[DictRow] | None = None) -> int:
        """The tracked position: committed, or as seen inside the transaction of `cur`."""
        if cur is None:
            return self.max_tracking_id(APPLICATION) or 0
        return self._max_tracking_id(APPLICATION, cur) or 0

    def create_table(self) -> None:
        with self.transaction() as cur:
            self.create_in(cur, indexes=True)

    def create_in(self, cur: Cursor[DictRow], *, indexes: bool) -> None:
        """Schema, tracking table and tables (and indexes, unless a bulk load comes first)."""
        self._create_extensions(cur)
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(self.schema)))
        super()._create_table(cur)
        for statement in self.model.tables.values():
            cur.execute(statement)  # type: ignore[arg-type]
        if indexes:
            self.create_indexes(cur)

    def _create_extensions(self, cur: Cursor[DictRow]) -> None:
        """In the home schema, so that dropping a version never drops what others use; under a
        lock, as two processes creating the same extension at once would collide."""
        if not self.model.extensions:
            return
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext('extensions'))", (LOCK_CLASS,))
        for name in self.model.extensions:
            cur.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(
                    sql.Identifier(name), sql.Identifier(HOME_SCHEMA)
                )
            )

    def create_indexes(self, cur: Cursor[DictRow]) -> None:
        for statement in self.model.indexes:
            cur.execute(statement)  # type: ignore[arg-type]


def conninfo(env: Mapping[str, str]) -> str:
    """A libpq connection string from eventsourcing's POSTGRES_* settings."""
    return make_conninfo(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env.get("POSTGRES_PORT") or "5432",
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD") or None,
    )


def open_view(
    model: type[ReadModel], env: Mapping[str, str], version: int
) -> ReadModelView:
    """A view on `version` of `model`'s tables, with a small pool of its own.

    Nothing is created: `create_in` (or `create_table`) does that.
    """
    settings = {
        **env,
        "POSTGRES_SCHEMA": schema_name(model.name, version),
        "POSTGRES_POOL_SIZE": "1",
        # A view never needs a second connection: every batch is one transaction on one.
        "POSTGRES_MAX_OVERFLOW": "0",
        # A rebuild batch may spend a while in Python between statements.
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
    }
    factory = PostgresFactory(Environment(model.name, settings))
    return ReadModelView(factory.datastore, model=model, version=version)
