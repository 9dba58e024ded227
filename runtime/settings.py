"""Process settings, read from the environment once.

Every other package receives what it needs from `runtime/`; nothing else reads `os.environ`.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

Registration = Literal["open", "approval"]
LogFormat = Literal["console", "json"]

_REGISTRATION_MODES: tuple[Registration, ...] = ("open", "approval")
_SECRET_KEY_FILE = "secret_key"


class SettingsError(ValueError):
    """An environment variable holds a value Trail cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    redis_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "Trail <trail@localhost>"
    data_dir: Path = Path(".trail")
    secret_key: str | None = None
    registration: Registration = "open"
    # Public URL of the web UI/API; links in emails are built from it, never from request headers.
    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # The hour (UTC) the daily digest goes out.
    digest_hour: int = 8
    # Webhooks may call private, loopback and link-local addresses (off: the SSRF guard).
    webhook_allow_private: bool = False
    log_format: LogFormat = "console"
    # Browser origins allowed to call the API (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # Where attachment bytes live: None for `data_dir/blobs`, `s3://bucket/prefix`, `file:///path`.
    blob_url: str | None = None
    max_upload_mb: int = 10
    attachment_retention_days: int = 30
    # Seconds a request waits for a database connection (from its pool, or a new one) before
    # it answers 503 with Retry-After: an outage shows at once instead of after a 30 s wait.
    db_timeout: int = 3
    # Accounts one client address may register per hour.
    registrations_per_hour: int = 20
    # What every Redis key of the API's counters starts with (login failures, throttles).
    redis_namespace: str = "trail"
    # How much lower the API's CPU priority (nice) is than the log's followers' on a shared
    # machine: under saturation, work already accepted goes first (docs/PERFORMANCE.md).
    api_niceness: int = 5

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def __repr__(self) -> str:
        # Settings get logged at startup; keep credentials (key, URL passwords) out of the logs.
        shown = {
            field: _redact(field, getattr(self, field)) for field in self.__struct_fields__
        }
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def _redact(field: str, value: object) -> object:
    if value is None:
        return None
    if field == "secret_key":
        return "***"
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    # An exported-but-empty variable (`DATABASE_URL=`) means "not configured", as in most tools.
    value = environ.get(name, "").strip()
    return value or None


def _port(environ: Mapping[str, str]) -> int:
    raw = environ.get("TRAIL_PORT", "").strip()
    if not raw:
        return 8000
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"TRAIL_PORT must be an integer, got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise SettingsError(f"TRAIL_PORT must be between 1 and 65535, got {port}")
    return port


def _digest_hour(environ: Mapping[str, str]) -> int:
    raw = environ.get("TRAIL_DIGEST_HOUR", "").strip()
    if not raw:
        return 8
    if not raw.isdigit() or not 0 <= int(raw) <= 23:
        raise SettingsError(f"TRAIL_DIGEST_HOUR must be an hour 0..23 (UTC), got {raw!r}")
    return int(raw)


def _integer(
    environ: Mapping[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < low:
        raise SettingsError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high}, got {value}")
    return value


def _blob_url(environ: Mapping[str, str]) -> str | None:
    url = _optional(environ, "TRAIL_BLOB_URL")
    if url is not None and urlsplit(url).scheme not in ("s3", "file"):
        raise SettingsError(
            f"TRAIL_BLOB_URL must be s3://bucket/prefix or file:///absolute/path, got {url!r}"
        )
    return url


def _registration(environ: Mapping[str, str]) -> Registration:
    raw = environ.get("TRAIL_REGISTRATION", "").strip().lower() or "open"
    if raw not in _REGISTRATION_MODES:
        allowed = " or ".join(repr(mode) for mode in _REGISTRATION_MODES)
        raise SettingsError(f"TRAIL_REGISTRATION must be {allowed}, got {raw!r}")
    return raw


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")


def _log_format(environ: Mapping[str, str]) -> LogFormat:
    raw = environ.get("TRAIL_LOG_FORMAT", "").strip().lower() or "console"
    if raw == "json":
        return "json"
    if raw == "console":
        return "console"
    raise SettingsError(f"TRAIL_LOG_FORMAT must be 'console' or 'json', got {raw!r}")


def _origins(environ: Mapping[str, str]) -> tuple[str, ...]:
    origins = []
    for item in environ.get("TRAIL_CORS_ORIGINS", "").split(","):
        origin = item.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc
                              or parts.path or parts.query):
            raise SettingsError(
                f"TRAIL_CORS_ORIGINS takes origins such as https://app.example.com, "
                f"got {origin!r}"
            )
        origins.append(origin)
    return tuple(origins)


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """Build `Settings` from `environ`, raising `SettingsError` on an unusable value."""
    data_dir_raw = environ.get("TRAIL_DATA_DIR", "").strip() or ".trail"
    base_url = _optional(environ, "TRAIL_BASE_URL")
    return Settings(
        database_url=_optional(environ, "DATABASE_URL"),
        redis_url=_optional(environ, "REDIS_URL"),
        smtp_url=_optional(environ, "SMTP_URL"),
        mail_from=_optional(environ, "TRAIL_MAIL_FROM") or "Trail <trail@localhost>",
        # Resolved now so that a later chdir (uvicorn reload, daemon) cannot move the data.
        data_dir=Path(data_dir_raw).expanduser().resolve(),
        secret_key=_optional(environ, "TRAIL_SECRET_KEY"),
        registration=_registration(environ),
        # Stored without a trailing slash so that `f"{base_url}/path"` never doubles it.
        base_url=base_url.rstrip("/") if base_url else None,
        host=_optional(environ, "TRAIL_HOST") or "127.0.0.1",
        port=_port(environ),
        digest_hour=_digest_hour(environ),
        webhook_allow_private=_flag(environ, "TRAIL_WEBHOOK_ALLOW_PRIVATE"),
        log_format=_log_format(environ),
        cors_origins=_origins(environ),
        blob_url=_blob_url(environ),
        max_upload_mb=_integer(environ, "TRAIL_MAX_UPLOAD_MB", 10, low=1),
        attachment_retention_days=_integer(environ, "TRAIL_ATTACHMENT_RETENTION_DAYS", 30, low=0),
        db_timeout=_integer(environ, "TRAIL_DB_TIMEOUT", 3, low=1),
        registrations_per_hour=_integer(environ, "TRAIL_REGISTRATIONS_PER_HOUR", 20, low=1),
        redis_namespace=_optional(environ, "TRAIL_REDIS_NAMESPACE") or "trail",
        api_niceness=_integer(environ, "TRAIL_API_NICENESS", 5, low=0, high=19),
    )


@functools.cache
def settings() -> Settings:
    """The process-wide settings; the environment is read on first use only."""
    return load_settings()


def secret_key_or_generate(settings: Settings) -> str:
    """The configured secret key, or one generated on first use and kept under the data dir.

    Persisting it keeps tokens valid across restarts, and every local process
    (serve, api, worker) that shares the data dir signs with the same key.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / _SECRET_KEY_FILE
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL makes concurrent first starts agree on one key: exactly one process creates it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        if error.errno != errno.EEXIST:
            raise
        return _read_secret_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
        file.flush()
        os.fsync(file.fileno())
    return key


def _read_secret_key(path: Path) -> str:
    # The creator may still be writing between O_EXCL and its write; wait briefly for content.
    deadline = time.monotonic() + 5.0
    while True:
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        if time.monotonic() > deadline:
            raise SettingsError(f"{path} is empty; delete it or set TRAIL_SECRET_KEY")
        time.sleep(0.05)
