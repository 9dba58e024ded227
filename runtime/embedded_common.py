"""What the embedded PostgreSQL and Redis have in common.

One server per data directory, shared by every Trail process pointed at it: the port is chosen
once and kept in a `<name>.port` file, the password is generated once into `<name>.password`, a
file lock serialises start, restart and stop, and a process that finds the server already running
reuses it and leaves it running when it exits.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import pwd
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psutil

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 60.0
LOOPBACK = "127.0.0.1"
# Without root, postgres runs as the invoking user; as root it refuses to, so it runs as this one.
POSTGRES_OS_USER = "embedded_postgres"


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started or stopped."""


@dataclass
class EmbeddedService:
    """A running embedded server and whether this process is the one that must stop it."""

    name: str
    url: str
    port: int
    data_path: Path
    log_path: Path
    owned: bool
    _stop: Callable[[], None] = field(repr=False)
    _is_running: Callable[[], bool] = field(repr=False)
    _restart: Callable[[], None] = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    def is_running(self) -> bool:
        """Whether the server process is alive (it may still be replaying its log)."""
        return self._is_running()

    def restart(self) -> None:
        """Start the server again on the same port and data after it died; owned servers only.

        The URL, password included, stays valid, so clients only have to reconnect.
        """
        if not self.owned or self._stopped:
            raise EmbeddedServiceError(f"this process does not run the embedded {self.name}")
        self._restart()

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


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    # flock, not a pid file: the kernel releases it if the holder dies mid-start.
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def secure_data_dir(path: Path) -> None:
    """Create `path` if needed and keep other local users out of it.

    Owner-only (0700), except that as root the embedded PostgreSQL's system user, which must
    reach its cluster and log inside, may pass through it (0710, its group), but not list it.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.geteuid() == 0:
        try:
            gid = pwd.getpwnam(POSTGRES_OS_USER).pw_gid
        except KeyError:
            path.chmod(0o700)
            return
        os.chown(path, -1, gid)
        path.chmod(0o710)
    else:
        path.chmod(0o700)


def password_from_file(path: Path) -> str:
    """The password kept in `path`, generated on first use (mode 0600).

    URL-safe characters only, so it goes into `scheme://user:password@host` as is.
    """
    try:
        # O_EXCL makes concurrent first starts agree on one password: exactly one creates it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        if error.errno != errno.EEXIST:
            raise
        return _read_password(path)
    password = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(password + "\n")
        file.flush()
        os.fsync(file.fileno())
    return password


def _read_password(path: Path) -> str:
    # The creator may still be writing between O_EXCL and its write; wait briefly for content.
    deadline = time.monotonic() + 5.0
    while True:
        password = path.read_text(encoding="ascii").strip()
        if password:
            return password
        if time.monotonic() > deadline:
            raise EmbeddedServiceError(
                f"{path} is empty; delete it and start Trail again"
            )
        time.sleep(0.05)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Both servers bind with SO_REUSEADDR, so a port in TIME_WAIT is usable for them too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def read_port(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def write_port(path: Path, port: int) -> None:
    # Write-then-rename so a concurrent reader never sees an empty or partial file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(f"{port}\n")
    os.replace(tmp, path)


def candidate_port(port_file: Path) -> int:
    stored = read_port(port_file)
    if stored is not None and port_is_free(stored):
        return stored
    if stored is not None:
        logger.warning("port %s from %s is taken by another program; choosing another", stored,
                       port_file)
    return free_port()


def process_matches(pid: int, name: str, marker: str) -> bool:
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


def log_tail(path: Path, offset: int = 0, lines: int = 40) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return "(no log written)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def clean_env() -> dict[str, str]:
    # PGDATA/PGPORT/PGHOST etc. in the caller's shell must not redirect our pg_ctl or initdb.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}
