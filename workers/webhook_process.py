"""`trail webhooks`: the deliveries follower (in its runner) and the deliverer, in threads of
one process. `trail serve`, the tests and production run the same object."""

from __future__ import annotations

import threading

from projections.runner import Runner
from workers.outage import ride_out
from workers.webhooks import Deliverer


class WebhookProcess:
    def __init__(self, runner: Runner, deliverer: Deliverer) -> None:
        self.runner = runner
        self.deliverer = deliverer
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="webhook-router", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.deliverer.start()

    def _run(self) -> None:
        try:
            ride_out(self.runner.run, self.stopping, "the webhook deliveries follower")
        except BaseException as error:
            # Kept for the command, which exits non-zero so its supervisor restarts it.
            self.error = error
            self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join()
        self.deliverer.stop()
