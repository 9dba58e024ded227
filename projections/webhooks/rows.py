"""Every change of a delivery's state, and the queries about them.

    pending --deliverer--> delivered
       |  ^
       |  +-- next attempt (after a timeout or a non-2xx answer, with backoff)
       +--> failed (attempts exhausted) --retry--> pending

A webhook's deliveries go one at a time in the order they were written: the next one is the
first `pending` row. The deliverer holds the webhook's row lock for the whole of an attempt, so
two deliverers never send for one webhook at once, and a failing webhook holds back no other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
import psycopg
from psycopg import sql
from psycopg.errors import UndefinedTable
from psycopg.rows import dict_row

from projections.paging import Page, check_limit, decode_cursor, page
from projections.webhooks.schema import CHANNEL

Conn = psycopg.Connection[Any]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class Due(msgspec.Struct, frozen=True):
    """A webhook's next delivery, locked for this attempt, with what sending it needs."""

    id: UUID
    webhook_id: UUID
    url: str
    position: int
    attempts: int
    sealed_secret: str | None


# --------------------------------------------------------------------------- the deliverer


def due_webhooks(conn: Conn, limit: int) -> list[UUID]:
    """Active webhooks whose next delivery is due now (not locked: a hint to try them)."""
    rows = conn.execute(
        "SELECT t.id FROM webhook_targets t CROSS JOIN LATERAL ("
        " SELECT next_attempt_at FROM webhook_deliveries d"
        " WHERE d.webhook_id = t.id AND d.status = 'pending' ORDER BY d.seq LIMIT 1) head "
        "WHERE t.active AND head.next_attempt_at <= now() ORDER BY head.next_attempt_at LIMIT %s",
        (limit,),
    ).fetchall()
    return [row[0] for row in rows]


def next_due(conn: Conn, webhook_id: UUID) -> Due | None:
    """Lock the webhook for one attempt and return its next delivery if it is due; None when
    another deliverer holds it, or nothing is due. Call inside a transaction."""
    target = conn.execute(
        "SELECT t.url, s.sealed FROM webhook_targets t "
        "LEFT JOIN public.webhook_secrets s ON s.webhook_id = t.id "
        "WHERE t.id = %s AND t.active FOR UPDATE OF t SKIP LOCKED",
        (webhook_id,),
    ).fetchone()
    if target is None:
        return None
    head = conn.execute(
        "SELECT id, position, attempts, next_attempt_at <= now() FROM webhook_deliveries "
        "WHERE webhook_id = %s AND status = 'pending' ORDER BY seq LIMIT 1",
        (webhook_id,),
    ).fetchone()
    if head is None or not head[3]:
        return None
    return Due(head[0], webhook_id, target[0], head[1], head[2], target[1])


def mark_delivered(conn: Conn, delivery_id: UUID, attempts: int, status_code: int) -> None:
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'delivered', attempts = %s, "
        "last_status_code = %s, last_error = NULL, delivered_at = now() WHERE id = %s",
        (attempts, status_code, delivery_id),
    )


def mark_retry(
    conn: Conn, delivery_id: UUID, attempts: int, status_code: int | None, error: str,
    delay: float,
) -> None:
    conn.execute(
        "UPDATE webhook_deliveries SET attempts = %s, last_status_code = %s, last_error = %s, "
        "next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
        (attempts, status_code, error, delay, delivery_id),
    )


def mark_failed(
    conn: Conn, delivery_id: UUID, attempts: int, status_code: int | None, error: str
) -> None:
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', attempts = %s, last_status_code = %s, "
        "last_error = %s WHERE id = %s",
        (attempts, status_code, error, delivery_id),
    )


# --------------------------------------------------------------------------- operators


def retry_delivery(conn: Conn, webhook_id: UUID, delivery_id: UUID) -> bool:
    """Send a delivery again now, with a fresh set of attempts (a delivered one too, with the
    same `webhook-id`). False for a delivery this webhook does not have, and before the
    deliveries follower has made its tables (there is none yet)."""
    try:
        with conn.transaction(), conn.cursor() as cur:
            retried = cur.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, "
                "next_attempt_at = now() WHERE id = %s AND webhook_id = %s RETURNING id",
                (delivery_id, webhook_id),
            ).fetchone()
            if retried is not None:
                cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
    except UndefinedTable:
        return False
    return retried is not None


class DeliveryCounts(msgspec.Struct, frozen=True):
    # Not delivered yet and still being tried.
    pending: int
    failed: int


def delivery_counts(conn: Conn) -> DeliveryCounts:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending') AS pending, "
            "count(*) FILTER (WHERE status = 'failed') AS failed "
            "FROM webhook_deliveries WHERE status IN ('pending', 'failed')"
        ).fetchone()
    assert row is not None
    return DeliveryCounts(pending=row["pending"], failed=row["failed"])


class DeliveryItem(msgspec.Struct, frozen=True):
    id: UUID
    position: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    # When the next attempt is due (pending only).
    next_attempt_at: datetime | None


def list_deliveries(
    conn: Conn,
    webhook_id: UUID,
    status: DeliveryStatus | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> Page[DeliveryItem]:
    """Newest first, keyset-paginated on the order they were written."""
    check_limit(limit)
    where: list[sql.Composable] = [sql.SQL("webhook_id = %s")]
    params: list[object] = [webhook_id]
    if status is not None:
        where.append(sql.SQL("status = %s"))
        params.append(status)
    if cursor is not None:
        where.append(sql.SQL("seq < %s"))
        params.append(decode_cursor(cursor, "deliveries", tuple[int])[0])
    query = sql.SQL(
        "SELECT seq, id, position, event_type, status, attempts, last_status_code, last_error, "
        "next_attempt_at FROM webhook_deliveries WHERE {} ORDER BY seq DESC LIMIT %s"
    ).format(sql.SQL(" AND ").join(where))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (*params, limit + 1)).fetchall()
    return page(rows, limit, "deliveries", lambda row: (row["seq"],), _item)


def _item(row: dict[str, Any]) -> DeliveryItem:
    return DeliveryItem(
        id=row["id"],
        position=row["position"],
        event_type=row["event_type"],
        status=row["status"],
        attempts=row["attempts"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"] if row["status"] == "pending" else None,
    )


class WebhookItem(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    event_types: list[str]
    project_id: UUID | None
    active: bool
    created_at: datetime


def list_webhooks(conn: Conn, limit: int = 25, cursor: str | None = None) -> Page[WebhookItem]:
    """In the order they were created."""
    check_limit(limit)
    after = decode_cursor(cursor, "webhooks", tuple[int])[0] if cursor is not None else 0
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT seq, id, url, event_types, project_id, active, created_at "
            "FROM webhook_targets WHERE seq > %s ORDER BY seq LIMIT %s",
            (after, limit + 1),
        ).fetchall()
    return page(
        rows, limit, "webhooks", lambda row: (row["seq"],),
        lambda row: WebhookItem(row["id"], row["url"], list(row["event_types"]),
                                row["project_id"], row["active"], row["created_at"]),
    )
