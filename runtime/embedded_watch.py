"""Keeps the embedded servers a `trail serve` started running: a dead one is started again on
its port, with its data, so every process holding its URL only has to reconnect."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from runtime.embedded_common import LOOPBACK, EmbeddedService

log = logging.getLogger("trail.services")

CHECK_INTERVAL = 0.5
# A restart that failed (say the port was taken meanwhile) is tried again after this.
RETRY_AFTER = 5.0


class ServiceWatcher:
    """A thread that checks each owned embedded server and restarts the ones that died.

    Servers another process started (or configured URLs) are that process's, or the
    operator's, to look after.
    """

    def __init__(self, services: Sequence[EmbeddedService], interval: float = CHECK_INTERVAL,
                 retry_after: float = RETRY_AFTER) -> None:
        self._services = [service for service in services if service.owned]
        self._interval = interval
        self._retry_after = retry_after
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trail-service-watcher",
                                        daemon=True)

    def start(self) -> None:
        if self._services:
            self._thread.start()

    def stop(self) -> None:
        """Stop watching; returns once a restart under way has finished."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        retry_at: dict[str, float] = {}
        while not self._stopping.wait(self._interval):
            for service in self._services:
                if service.is_running() or time.monotonic() < retry_at.get(service.name, 0.0):
                    continue
                if self._restart(service):
                    retry_at.pop(service.name, None)
                else:
                    retry_at[service.name] = time.monotonic() + self._retry_after

    def _restart(self, service: EmbeddedService) -> bool:
        began = time.monotonic()
        try:
            service.restart()
        # Anything: this thread is what brings the server back, it must outlive one failure.
        except Exception as error:
            log.error("embedded %s on %s:%s is down and did not restart (trying again in "
                      "%.0f s): %s", service.name, LOOPBACK, service.port, self._retry_after,
                      error)
            return False
        log.warning("embedded %s on %s:%s had died; restarted it on the same port in %.1f s",
                    service.name, LOOPBACK, service.port, time.monotonic() - began)
        return True
