"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

from typing import Literal, cast

import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from psycopg import Connection
from psycopg import Error as DatabaseError
from psycopg.errors import UndefinedTable
from psycopg.rows import DictRow
from redis.exceptions import RedisError

from api.context import Context
from projections.outbox.rows import OutboxCounts, outbox_counts
from projections.positions import ProjectionStatus, Source, projection_status
from projections.webhooks.rows import DeliveryCounts, delivery_counts

Check = Literal["ok", "down"]
Status = Literal["ok", "degraded", "down"]

# Seconds /health waits for a pooled connection: with the pool's connect timeout it answers
# within 2 s even while the database is down or restarting (a load balancer, `trail serve`'s
# start-up and an operator all ask it during outages).
DATABASE_WAIT = 1.0


class Health(msgspec.Struct, frozen=True):
    status: Status
    database: Check
    broker: Check
    projections: dict[str, ProjectionStatus]
    outbox: OutboxCounts
    webhooks: DeliveryCounts


@get(
    "/health",
    tags=["health"],
    sync_to_thread=True,
    summary="Is Trail up, and how far behind are its read models",
    description="200 while the database and the broker answer; 503 within 2 s when either does "
    "not, naming it (`database` or `broker` is `down`; `status` is `down` without the database, "
    "`degraded` without the broker). `lag` counts events a projection has yet to process; "
    "`outbox` counts emails not yet delivered and those that finally failed; `webhooks` the same "
    "for webhook deliveries.",
    responses={503: ResponseSpec(Health, description="The database or the broker does not "
                                 "answer")},
)
def health(context: Context) -> Response[Health]:
    database: Check = "ok"
    projections: dict[str, ProjectionStatus] = {}
    outbox = OutboxCounts(pending=0, failed=0)
    webhooks = DeliveryCounts(pending=0, failed=0)
    try:
        # One connection for every question, taken with a short wait: never the pool's default.
        with context.services.pool.connection(timeout=DATABASE_WAIT) as conn:
            # That module gives each cursor its own row factory, so a dict-row connection serves.
            projections = projection_status(cast(Source, conn))
            outbox = _outbox(conn)
            webhooks = _webhooks(conn)
    except DatabaseError:
        database = "down"
    broker: Check = "ok"
    try:
        context.services.redis.ping()
    except RedisError:
        broker = "down"
    status: Status = "down" if database == "down" else "degraded" if broker == "down" else "ok"
    body = Health(status, database, broker, projections, outbox, webhooks)
    return Response(body, status_code=200 if status == "ok" else 503,
                    headers={} if status == "ok" else {"Retry-After": "2"})


def _outbox(conn: Connection[DictRow]) -> OutboxCounts:
    try:
        return outbox_counts(conn)
    except UndefinedTable:
        # The notifier has not installed its outbox yet: nothing is waiting to be sent.
        return OutboxCounts(pending=0, failed=0)


def _webhooks(conn: Connection[DictRow]) -> DeliveryCounts:
    try:
        return delivery_counts(conn)
    except UndefinedTable:
        # The deliverer has not installed its tables yet: nothing is waiting.
        return DeliveryCounts(pending=0, failed=0)


class Probe(msgspec.Struct, frozen=True, omit_defaults=True):
    status: Literal["ok", "ready", "not-ready"]
    detail: str | None = None


@get(
    "/livez",
    tags=["health"],
    sync_to_thread=False,
    summary="Is this process alive",
    description="200 whenever the process answers HTTP; it asks nothing of the database. For "
    "a liveness probe: restart the process when this fails.",
)
def livez() -> Probe:
    return Probe("ok")


@get(
    "/readyz",
    tags=["health"],
    sync_to_thread=True,
    summary="Is this process ready to serve",
    description="200 when the database answers and its schema has every migration this code "
    "needs; 503 otherwise. For a readiness probe: send traffic only while this answers 200.",
    responses={503: ResponseSpec(Probe, description="Not ready: `detail` says why")},
)
def readyz(context: Context) -> Response[Probe]:
    needed = set(context.services.settings.migrations)
    try:
        with context.services.pool.connection(timeout=DATABASE_WAIT) as conn:
            applied = {row["migration_id"] for row in conn.execute(
                "SELECT migration_id FROM _yoyo_migration").fetchall()}
    except UndefinedTable:
        return Response(Probe("not-ready", "the schema is not migrated"), status_code=503)
    except DatabaseError:
        return Response(Probe("not-ready", "the database does not answer"), status_code=503)
    missing = sorted(needed - applied)
    if missing:
        return Response(Probe("not-ready", f"migrations not applied: {', '.join(missing)}"),
                        status_code=503)
    return Response(Probe("ready"))


ROUTES = [health, livez, readyz]
