"""The embedded PostgreSQL: password-only access, private files, restart after a SIGKILL, and
the in-place upgrade of a cluster created with trust authentication."""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from runtime.embedded import EmbeddedService, start_postgres
from runtime.embedded_pg_auth import HBA_CONF
from runtime.embedded_watch import ServiceWatcher
from tests.runtime.support import embedded_data_dir, wait_until_dead

ANSWER_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with embedded_data_dir() as path:
        yield path


@pytest.fixture(scope="module")
def postgres(data_dir: Path) -> Iterator[EmbeddedService]:
    service = start_postgres(data_dir)
    yield service
    service.stop()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}").geturl()


def _wait_until_it_answers(url: str) -> None:
    began = time.monotonic()
    while time.monotonic() - began < ANSWER_TIMEOUT:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            time.sleep(0.05)
    pytest.fail(f"PostgreSQL did not answer again within {ANSWER_TIMEOUT} s")


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])


def test_a_connection_needs_the_password(postgres: EmbeddedService) -> None:
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(_without_password(postgres.url), connect_timeout=5)
    wrong = postgres.url.replace(f":{urlsplit(postgres.url).password}@", ":wrong@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)
    with psycopg.connect(postgres.url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)


def test_its_files_are_private(postgres: EmbeddedService, data_dir: Path) -> None:
    assert _mode(data_dir / "postgres") == 0o700
    assert _mode(data_dir / "postgres.password") == 0o600
    assert _mode(data_dir / "postgres.log") == 0o600
    # As root, the server's own user may pass through the data dir (0710), nobody else.
    assert _mode(data_dir) == (0o710 if os.geteuid() == 0 else 0o700)
    assert (data_dir / "postgres" / "pg_hba.conf").read_text() == HBA_CONF


def test_a_killed_server_comes_back_on_its_port_with_its_data(
    postgres: EmbeddedService, data_dir: Path
) -> None:
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('committed before the kill')")
    # A backend busy in a long query outlives its postmaster and would block the restart.
    busy = threading.Thread(target=_long_query, args=(postgres.url,), daemon=True)
    busy.start()
    time.sleep(0.5)
    killed = _postmaster_pid(data_dir)
    watcher = ServiceWatcher([postgres], interval=0.1)
    watcher.start()
    try:
        os.kill(killed, signal.SIGKILL)
        wait_until_dead(killed)
        _wait_until_it_answers(postgres.url)
    finally:
        watcher.stop()
    busy.join(10)
    assert not busy.is_alive()
    assert postgres.is_running() and _postmaster_pid(data_dir) != killed
    with psycopg.connect(postgres.url) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("committed before the kill",)]
        # Same port: the URL every process holds is still right.
        assert conn.info.port == postgres.port


def _long_query(url: str) -> None:
    try:
        with psycopg.connect(url) as conn:
            conn.execute("SELECT count(*) FROM generate_series(1, 10000000000)")
    except psycopg.OperationalError:
        pass


@pytest.fixture
def legacy_data_dir() -> Iterator[Path]:
    with embedded_data_dir() as path:
        yield path


def test_a_cluster_with_trust_authentication_is_upgraded_in_place(legacy_data_dir: Path) -> None:
    service = start_postgres(legacy_data_dir)
    with psycopg.connect(service.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (1)")
    service.stop()
    # What an earlier Trail left: trust rules, no password file, a data dir open to all.
    (legacy_data_dir / "postgres" / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (legacy_data_dir / "postgres.password").unlink()
    legacy_data_dir.chmod(0o755)

    upgraded = start_postgres(legacy_data_dir)
    try:
        assert upgraded.url != service.url
        with psycopg.connect(upgraded.url) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(1,)]
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(_without_password(upgraded.url), connect_timeout=5)
        assert _mode(legacy_data_dir / "postgres.password") == 0o600
        assert _mode(legacy_data_dir) & 0o007 == 0
    finally:
        upgraded.stop()
