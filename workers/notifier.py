"""The notifier: the outbox follower (in its runner) and the relay, in threads of one process.

`trail notifier` runs it in production; `trail serve`, the tests and the benchmarks run the same
object.
"""

from __future__ import annotations

import threading

from dramatiq.brokers.redis import RedisBroker

from projections.runner import Runner
from workers.outage import ride_out
from workers.relay import Relay


class Notifier:
    def __init__(self, runner: Runner, relay: Relay, broker: RedisBroker) -> None:
        self.runner = runner
        self.relay = relay
        self.broker = broker
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="trail-notifier", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.relay.start()

    def _run(self) -> None:
        try:
            ride_out(self.runner.run, self.stopping, "the outbox follower")
        except BaseException as error:
            # Kept for the command, which exits non-zero so its supervisor restarts it.
            self.error = error
            self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join()
        self.relay.stop()
        self.broker.close()
