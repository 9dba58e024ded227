"""A follower of the log and the companion that acts on what it writes, in threads of one
process: the outbox follower and the email relay (`trail notifier`), the deliveries follower and
the webhook deliverer (`trail webhooks`). `trail serve`, the tests and the benchmarks run the same
objects."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from projections.runner import Runner
from workers.outage import ride_out


class Companion(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class FollowerProcess:
    def __init__(self, runner: Runner, companion: Companion, *, what: str,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.runner = runner
        self.companion = companion
        self.what = what
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._on_stop = on_stop
        self._thread = threading.Thread(target=self._run, name=what, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.companion.start()

    def _run(self) -> None:
        try:
            ride_out(self.runner.run, self.stopping, what=self.what)
        except BaseException as error:
            # Kept for the command, which exits non-zero so its supervisor restarts it.
            self.error = error
            self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join()
        self.companion.stop()
        if self._on_stop is not None:
            self._on_stop()
