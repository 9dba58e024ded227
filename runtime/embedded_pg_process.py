"""The processes of an embedded PostgreSQL cluster: its live postmaster, and what a dead one
left behind (leftover backends, lock files) that would keep a new server from starting."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import psutil

from runtime.embedded_common import process_matches
from runtime.embedded_pg_os import OsUser, chown

logger = logging.getLogger(__name__)

# sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS); stay under both with the NUL.
_MAX_SOCKET_PATH = 103


def postmaster(pgdata: Path) -> tuple[int, int | None, str] | None:
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


def socket_dir(pgdata: Path, port: int, user: OsUser | None) -> Path:
    """Where the server of `pgdata` on `port` puts its unix socket."""
    if len(str(pgdata / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
        return pgdata
    # A deep data dir would overflow sun_path; fall back to a short per-user dir under /tmp.
    fallback = Path(tempfile.gettempdir()) / f"trail-pg-{os.getuid()}-{port}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    chown(fallback, user)
    return fallback


def clear_leftovers(pgdata: Path, port: int, user: OsUser | None) -> None:
    """Remove what a dead server of `pgdata` left behind; only call when no postmaster runs."""
    _kill_leftovers(pgdata)
    for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock"),
                 socket_dir(pgdata, port, user) / f".s.PGSQL.{port}.lock"]:
        _remove_stale_lock(lock)


def _kill_leftovers(pgdata: Path) -> None:
    """Kill the server processes a dead postmaster left running.

    Backends notice the postmaster's death and exit, but one busy in a long query does so only
    at its next check, and while any lives it holds the old shared memory and PostgreSQL
    refuses to start. Every server process works in its data directory, which identifies them.
    """
    leftovers: list[psutil.Process] = []
    for process in psutil.process_iter(["name"]):
        try:
            if (process.info["name"] == "postgres" and process.cwd() == str(pgdata)
                    and process.status() != psutil.STATUS_ZOMBIE):
                leftovers.append(process)
        except psutil.Error:
            continue
    for process in leftovers:
        logger.warning("killing leftover PostgreSQL process %s of %s", process.pid, pgdata)
        try:
            process.kill()
        except psutil.Error:
            continue
    # Not psutil.wait_procs: a killed process nobody reaps stays a zombie, which is gone enough.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(process) for process in leftovers):
        time.sleep(0.05)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


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
            # Not one of this cluster's (those were killed above): PostgreSQL's own checks
            # must judge another server's process, so leave the file.
            return
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return
    logger.debug("removing stale %s (pid %s is not a running postgres)", path, pid)
    path.unlink(missing_ok=True)
