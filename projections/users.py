"""Users read model: `GET /users` (filters role, status, q over name and email), `/users/{id}`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor, sql
from psycopg.rows import DictRow

from domain.user import User
from domain.values import Role, UserStatus
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.bulk import fetch_by_ids, upsert
from projections.paging import Page, check_limit, decode_cursor, page

USERS_DDL = """
CREATE TABLE users (
    id uuid PRIMARY KEY,
    seq bigint NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz
)
"""

COLUMNS = ("id", "seq", "name", "email", "role", "status", "created_at", "updated_at")


class UsersProjection(ReadModel):
    name = "users"
    revision = 2
    topics = topics_of(
        User.Registered, User.Approved, User.RoleChanged, User.Renamed, User.Deactivated,
        User.Reactivated, User.PasswordChanged, User.MadePending,
    )
    tables = {"users": USERS_DDL}
    indexes = ("CREATE UNIQUE INDEX users_seq ON users (seq)",)

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        new = {e.event.originator_id for e in events if isinstance(e.event, User.Registered)}
        changed = {e.event.originator_id for e in events} - new
        rows = fetch_by_ids(cur, "users", "id", COLUMNS, changed)
        for position, event in events:
            match event:
                case User.Registered():
                    rows[event.originator_id] = _registered(position, event)
                case User.Event():
                    _fold(rows[event.originator_id], event)
        upsert(cur, "users", ("id",), COLUMNS, list(rows.values()))


def _registered(position: int, event: User.Registered) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "seq": position,
        "name": event.name,
        "email": event.email,
        "role": event.role,
        "status": event.status,
        "created_at": event.timestamp,
        "updated_at": None,
    }


def _fold(row: dict[str, Any], event: User.Event) -> None:
    match event:
        case User.Approved() | User.Reactivated():
            row["status"] = UserStatus.ACTIVE
        case User.Deactivated():
            row["status"] = UserStatus.DEACTIVATED
        case User.MadePending():
            row["status"] = UserStatus.PENDING
        case User.RoleChanged(role=role):
            row["role"] = role
        case User.Renamed(name=name):
            row["name"] = name
    row["updated_at"] = event.timestamp


class UserView(msgspec.Struct, frozen=True, omit_defaults=True):
    id: UUID
    name: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime | None
    email: str | None = None
    """Shown to the user itself and to admins only (`public` leaves it out)."""

    def public(self) -> UserView:
        return msgspec.structs.replace(self, email=None)


class UserRef(msgspec.Struct, frozen=True):
    """A user as other resources embed it: who reported, who is assigned, who wrote."""

    id: UUID
    name: str


class UserFilters(msgspec.Struct, frozen=True, kw_only=True):
    role: Role | None = None
    status: UserStatus | None = None
    q: str | None = None
    """Case-insensitive substring of the name or the email."""
    assignable: bool = False
    """Only active developers and admins: the people a ticket can be assigned to."""


_SELECT = sql.SQL("SELECT id, seq, name, email, role, status, created_at, updated_at FROM users")


def view_of(user: User) -> UserView:
    """The view of a user aggregate, as a command that changed it answers."""
    return msgspec.convert(user, UserView, from_attributes=True)


def _view(row: DictRow) -> UserView:
    return msgspec.convert(row, UserView)


def get_user(conn: Connection[DictRow], user_id: UUID) -> UserView | None:
    row = conn.execute(_SELECT + sql.SQL(" WHERE id = %s"), (user_id,)).fetchone()
    return _view(row) if row else None


def list_users(
    conn: Connection[DictRow], filters: UserFilters, limit: int = 25, cursor: str | None = None
) -> Page[UserView]:
    """Users in the order they registered."""
    check_limit(limit)
    after = decode_cursor(cursor, "users", tuple[int])[0] if cursor is not None else 0
    clauses = [sql.SQL("seq > %s")]
    params: list[Any] = [after]
    if filters.role is not None:
        clauses.append(sql.SQL("role = %s"))
        params.append(filters.role)
    if filters.status is not None:
        clauses.append(sql.SQL("status = %s"))
        params.append(filters.status)
    if filters.assignable:
        clauses.append(sql.SQL("status = 'active' AND role IN ('developer', 'admin')"))
    if filters.q:
        clauses.append(sql.SQL("(name ILIKE %s OR email ILIKE %s)"))
        params += [like_pattern(filters.q)] * 2
    query = _SELECT + sql.SQL(" WHERE {} ORDER BY seq LIMIT %s").format(
        sql.SQL(" AND ").join(clauses)
    )
    rows = conn.execute(query, [*params, limit + 1]).fetchall()
    return page(rows, limit, "users", lambda row: (row["seq"],), _view)


def refs(conn: Connection[DictRow], ids: Iterable[UUID]) -> dict[UUID, UserRef]:
    """The users among `ids` that the model knows, as embedded references."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute("SELECT id, name FROM users WHERE id = ANY(%s)", (wanted,)).fetchall()
    return {row["id"]: UserRef(row["id"], row["name"]) for row in rows}


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
