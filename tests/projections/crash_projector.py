"""A projector process for the crash test: every read model plus the Ledger, until SIGTERM.

Run as `python -m tests.projections.crash_projector DATABASE_URL`; prints "running" once it is
about to process, so the test can time its SIGKILLs against work in progress.
"""

from __future__ import annotations

import signal
import sys
import threading

from projections.catalog import READ_MODELS
from projections.projector import run_projections
from runtime.embedded import postgres_env
from tests.projections.ledger import Ledger


def main(database_url: str) -> None:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    print("running", flush=True)
    run_projections([*READ_MODELS, Ledger], postgres_env(database_url), stopping)


if __name__ == "__main__":
    main(sys.argv[1])
