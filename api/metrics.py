"""`/metrics` in the Prometheus text format: what the API counts as it serves (requests by
route and status, their latency, throttled logins), and what it reads at each scrape (each
projection's position and lag, the email outbox's and webhook deliveries' backlog and failures).

The scrape carries no user data, so it needs no token; expose it to the monitoring network only.
Each API process has its own registry: with `trail api --workers N`, scrape each process (the
counters are per process, as is usual for Prometheus).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, cast

from litestar import Response, get
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from psycopg import Connection
from psycopg import Error as DatabaseError
from psycopg.errors import UndefinedTable

from api.services import ApiServices
from projections.outbox.rows import outbox_counts
from projections.positions import Source, projection_status
from projections.webhooks.rows import delivery_counts

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, services: ApiServices) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "trail_http_requests", "HTTP requests answered, by route and status",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "trail_http_request_duration_seconds", "Time to answer, by route",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.throttled_logins = Counter(
            "trail_login_throttled", "Logins refused with 429 (too many failures)",
            registry=self.registry,
        )
        self.registry.register(_Backlogs(services))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Backlogs(Collector):
    """Read at each scrape, from the database; nothing when it does not answer (`/health`
    says so)."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        position = GaugeMetricFamily("trail_projection_position",
                                     "Last log position a read model has processed",
                                     labels=["projection"])
        lag = GaugeMetricFamily("trail_projection_lag_events",
                                "Events recorded that a read model has yet to process",
                                labels=["projection"])
        families = [position, lag]
        try:
            for name, status in projection_status(cast(Source, self.services.pool)).items():
                position.add_metric([name], status.position)
                lag.add_metric([name], status.lag)
            with self.services.pool.connection(timeout=2) as conn:
                families += _counts(conn, "trail_outbox", "emails", outbox_counts)
                families += _counts(conn, "trail_webhook_deliveries", "webhook deliveries",
                                    delivery_counts)
        except DatabaseError:
            pass
        yield from families


class _Counts(Protocol):
    @property
    def pending(self) -> int: ...

    @property
    def failed(self) -> int: ...


class _Nothing:
    pending = 0
    failed = 0


def _counts(conn: Connection[Any], prefix: str, what: str,
            read: Callable[[Connection[Any]], _Counts]) -> list[GaugeMetricFamily]:
    try:
        counts: _Counts = read(conn)
    except UndefinedTable:
        # Its process has not installed its tables yet: nothing waits.
        counts = _Nothing()
    return [
        GaugeMetricFamily(f"{prefix}_pending", f"{what} not delivered yet, still being tried",
                          value=counts.pending),
        GaugeMetricFamily(f"{prefix}_failed", f"{what} that exhausted their attempts",
                          value=counts.failed),
    ]


@get(
    "/metrics",
    tags=["health"],
    sync_to_thread=True,
    include_in_schema=True,
    summary="Prometheus metrics",
    description="The Prometheus text format: requests by route and status and their latency, "
    "throttled logins, each read model's position and lag, the email outbox's and webhook "
    "deliveries' backlog and failures. No token needed: it carries no user data.",
    media_type=CONTENT_TYPE_LATEST,
)
def metrics_endpoint(metrics: Metrics) -> Response[bytes]:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
