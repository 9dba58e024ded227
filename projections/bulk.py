"""Set-based writes for projectors: one statement per table per batch, never row by row.

A batch's rows travel as one JSON array and are expanded with `jsonb_populate_recordset` on the
table's own row type, so column types come from the DDL and no staging table is needed. Every
helper runs on the batch's cursor, whose search_path is the version's schema.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
from psycopg import Cursor, sql
from psycopg.rows import DictRow

_encoder = msgspec.json.Encoder()


def _records(table: str, columns: Sequence[str]) -> sql.Composed:
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL(
        "INSERT INTO {t} ({c}) SELECT {c} FROM jsonb_populate_recordset(NULL::{t}, %s::jsonb)"
    ).format(t=sql.Identifier(table), c=cols)


@functools.cache
def _insert_statement(table: str, columns: tuple[str, ...]) -> bytes:
    # Composing SQL was a fifth of the projector's Python time when rebuilt for every batch; the
    # text depends on names only (tables are found through the search_path), so once per shape.
    return _records(table, columns).as_bytes(None)


@functools.cache
def _upsert_statement(table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> bytes:
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns if c not in key
    )
    statement = _records(table, columns) + sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(
        sql.SQL(", ").join(map(sql.Identifier, key)), updates
    )
    return statement.as_bytes(None)


@functools.cache
def _select_statement(table: str, key: str, columns: tuple[str, ...]) -> bytes:
    return sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(table),
        sql.Identifier(key),
    ).as_bytes(None)


def insert(
    cur: Cursor[DictRow], table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    if rows:
        cur.execute(_insert_statement(table, tuple(columns)), (_encoder.encode(rows).decode(),))


def upsert(
    cur: Cursor[DictRow],
    table: str,
    key: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert or replace `rows`, at most one per key."""
    if not rows:
        return
    cur.execute(_upsert_statement(table, tuple(key), tuple(columns)),
                (_encoder.encode(rows).decode(),))


def fetch_by_ids(
    cur: Cursor[DictRow], table: str, key: str, columns: Sequence[str], ids: Iterable[Any]
) -> dict[Any, dict[str, Any]]:
    """Current rows of `table` whose `key` is in `ids`, as mutable dicts keyed by that value."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = cur.execute(_select_statement(table, key, tuple(columns)), (wanted,)).fetchall()
    return {row[key]: dict(row) for row in rows}


# COPY's text format: a backslash escapes these (and a field is NULL as \N).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NEEDS_ESCAPE = re.compile(r"[\\\n\r\t]").search


def copy_text(value: str) -> str:
    """`value` as a field of COPY's text format (most text needs no escape: look first)."""
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE(value) else value
