"""Which version of each read model is live, and the atomic switch between versions.

`public.projection_versions` has one row per projection: its live version, the revision of
the code that built it, and its position. A live runner updates that row in the same
transaction as each batch (`advance`), which both publishes its position for readers and
checks that it still writes the live version: a rebuild switches by updating the row under
`FOR UPDATE`, so a runner's next batch finds the version changed and rolls back.
"""

from __future__ import annotations

from typing import NamedTuple

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from projections.base import HOME_SCHEMA, LOCK_CLASS, POSITIONS_CHANNEL, ReadModel, schema_name

_TABLE = sql.Identifier(HOME_SCHEMA, "projection_versions")
_DDL = sql.SQL(
    "CREATE TABLE IF NOT EXISTS {} ("
    " name text PRIMARY KEY,"
    " version integer NOT NULL,"
    " revision integer NOT NULL,"
    " position bigint NOT NULL,"
    " switched_at timestamptz NOT NULL DEFAULT now())"
).format(_TABLE)


class Live(NamedTuple):
    version: int
    revision: int
    position: int


class VersionChanged(Exception):
    """The version a runner writes is no longer live: a rebuild switched it."""


def lock_registry(cur: Cursor[DictRow]) -> None:
    """Serialise installs and switches (and the registry's own creation) across processes."""
    cur.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext('projection_versions'))", (LOCK_CLASS,)
    )
    cur.execute(_DDL)


def live(cur: Cursor[DictRow], name: str, *, for_update: bool = False) -> Live | None:
    query = sql.SQL("SELECT version, revision, position FROM {} WHERE name = %s").format(_TABLE)
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    row = cur.execute(query, (name,)).fetchone()
    return Live(row["version"], row["revision"], row["position"]) if row else None


def advance(cur: Cursor[DictRow], name: str, version: int, position: int) -> None:
    """Publish a live runner's new position, in its batch's transaction."""
    row = cur.execute(
        sql.SQL(
            "UPDATE {} SET position = %s WHERE name = %s AND version = %s RETURNING name"
        ).format(_TABLE),
        (position, name, version),
        prepare=True,
    ).fetchone()
    if row is None:
        raise VersionChanged(name)
    notify(cur, name, position)


def notify(cur: Cursor[DictRow], name: str, position: int) -> None:
    cur.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{name}:{position}"),
                prepare=True)


def publish(cur: Cursor[DictRow], model: type[ReadModel], version: int, position: int) -> None:
    """Make `version` live: repoint the public views at its tables and record it.

    Runs in the caller's transaction, which must hold the registry lock; readers see the old
    tables or the new ones, never a mix.
    """
    cur.execute(sql.SQL("SET LOCAL lock_timeout = '2s'"))
    schema = schema_name(model.name, version)
    for table in model.tables:
        cur.execute(
            sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(HOME_SCHEMA, table))
        )
        cur.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier(HOME_SCHEMA, table), sql.Identifier(schema, table)
            )
        )
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (name, version, revision, position) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, "
            "revision = EXCLUDED.revision, position = EXCLUDED.position, switched_at = now()"
        ).format(_TABLE),
        (model.name, version, model.revision, position),
    )
    notify(cur, model.name, position)


def drop_version(cur: Cursor[DictRow], name: str, version: int) -> None:
    cur.execute(
        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema_name(name, version))
        )
    )


def stale_versions(cur: Cursor[DictRow], name: str, keep: int) -> list[int]:
    """Versions of `name` that exist as schemas but are not `keep` (say, a crashed rebuild's)."""
    rows = cur.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"rm\\_{name}\\_v%",)
    ).fetchall()
    suffixes = [str(r["nspname"]).removeprefix(f"rm_{name}_v") for r in rows]
    return sorted(int(s) for s in suffixes if s.isdigit() and int(s) != keep)
