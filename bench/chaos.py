"""Chaos: a bounded load against `trail serve` while every kind of process it runs is SIGKILLed,
then proof that nothing was lost.

    uv run python bench/chaos.py --short          # a kill of each kind, about 2-3 minutes (CI)
    uv run python bench/chaos.py --kills 10       # ten of each

`trail serve` runs as a user runs it, on embedded PostgreSQL and Redis under a data directory of
the run's own, with an aiosmtpd sink as its mail server (a process of its own). Writers send
commands over HTTP (tickets created with two assignees, titles changed, comments), trying again
after a 503 or a refused connection; a command counts as accepted when it was answered 2xx. The
kills follow the writers' progress, not the clock: each waits for `--every` newly accepted
commands and a healthy system, then kills one of api, projector, notifier, worker, webhooks,
the embedded PostgreSQL, the embedded Redis (all restarted by `trail serve` itself) or the SMTP
sink (started again by this script after `--smtp-down` seconds), in turn.

Once the load ends and the system has settled it checks (bench/chaos_checks.py): every accepted
command is in the log, every read model equals a replay, every email arrived once or as a
duplicate with the same Message-ID; a 500 answer is a violation too. It prints a summary and
exits 1 on any violation.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path and bench/email.py would shadow the
# standard library's `email` package, which aiosmtpd needs.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402

import httpx  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.chaos_checks import (  # noqa: E402
    accepted_are_in_the_log,
    emails_arrived,
    read_models_equal_a_replay,
)
from bench.chaos_load import Load, Sink  # noqa: E402
from runtime.embedded import resolve_services  # noqa: E402
from runtime.settings import Settings  # noqa: E402

REPO = _HERE.parent
CHILDREN = ("api", "projector", "notifier", "worker", "webhooks")
KINDS = (*CHILDREN, "postgres", "redis", "smtp")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Chaos:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sink = Sink(work / "smtp.record")
        self.kills: Counter[str] = Counter()
        self.health_back: dict[str, list[float]] = defaultdict(list)
        self.writes_back: dict[str, list[float]] = defaultdict(list)
        self.serve: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ the process tree

    def start(self) -> None:
        self.sink.start()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TRAIL_") and k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(TRAIL_DATA_DIR=str(self.work / "data"), SMTP_URL=self.sink.url,
                   TRAIL_EMAIL_NAMESPACE=f"trail-chaos-{uuid.uuid4().hex[:8]}",
                   TRAIL_SECRET_KEY=uuid.uuid4().hex * 2)
        log = (self.work / "serve.log").open("ab")
        self.serve = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "serve", "--port", str(self.port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._until(self.healthy, 300, "trail serve never answered /health")
        services = resolve_services(Settings(data_dir=self.work / "data"))
        self.database_url, self.redis_url = services.database_url, services.redis_url

    def stop(self) -> None:
        if self.serve is not None and self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                self.serve.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.serve.pid, signal.SIGKILL)
                self.serve.wait()
        self.sink.stop()

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _pid(self, kind: str) -> int | None:
        assert self.serve is not None
        if kind in CHILDREN:
            for child in psutil.Process(self.serve.pid).children():
                try:
                    # A zombie is a child that died and was not reaped yet: not the running one.
                    cmdline = child.cmdline()
                except psutil.Error:
                    continue
                if "runtime.cli" in cmdline and kind in cmdline[cmdline.index("runtime.cli"):]:
                    return child.pid
            return None
        try:
            if kind == "postgres":
                with psycopg.connect(self.database_url, connect_timeout=2) as conn:
                    return psutil.Process(conn.info.backend_pid).ppid()
            client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
            with client:
                return int(client.info("server")["process_id"])
        except (psycopg.Error, redis.RedisError, psutil.Error):
            return None

    # ------------------------------------------------------------------ the kills

    def kill(self, kind: str, load: Load) -> None:
        if kind == "smtp":
            self.sink.kill()
            time.sleep(self.args.smtp_down)
            self.sink.start()
            self.kills[kind] += 1
            return
        deadline = time.monotonic() + 120
        while (pid := self._pid(kind)) is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"chaos: no {kind} process to kill")
            time.sleep(0.1)
        accepted_before = load.accepted_count()
        began = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        self.kills[kind] += 1
        self._until(lambda: self._pid(kind) not in (None, pid) and self.healthy(), 180,
                    f"{kind} did not come back")
        self.health_back[kind].append(time.monotonic() - began)
        self._until(lambda: load.accepted_count() > accepted_before, 180,
                    f"no command accepted after killing {kind}")
        self.writes_back[kind].append(time.monotonic() - began)

    @staticmethod
    def _until(check: object, timeout: float, failure: str) -> None:
        assert callable(check)
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise SystemExit(f"chaos: {failure} within {timeout:.0f} s")
            time.sleep(0.1)

    def run(self) -> int:
        load = Load(self.url, writers=self.args.writers)
        load.seed()
        load.start()
        for _ in range(self.args.kills):
            for kind in KINDS:
                load.wait_for_more(self.args.every)
                print(f"chaos: killing {kind} (accepted so far: {load.accepted_count()})",
                      flush=True)
                self.kill(kind, load)
        load.wait_for_more(self.args.every)
        load.stop()
        settled = self.settle()
        return self.report(load, settled)

    def settle(self) -> float:
        """Seconds until every projection is at the head and no email waits."""
        began = time.monotonic()
        while time.monotonic() - began < self.args.settle_timeout:
            try:
                health = httpx.get(f"{self.url}/health", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                health = {}
            lags = [p["lag"] for p in (health.get("projections") or {}).values()]
            if health.get("status") == "ok" and lags and not any(lags) and \
                    health["outbox"]["pending"] == 0:
                return time.monotonic() - began
            time.sleep(0.5)
        return float("nan")

    def report(self, load: Load, settled: float) -> int:
        checks = [accepted_are_in_the_log(self.database_url, load.accepted),
                  emails_arrived(self.database_url, self.sink.record),
                  read_models_equal_a_replay(self.database_url)]
        violations = [v for c in checks for v in c.violations]
        if load.server_errors:
            violations.append(f"{load.server_errors} answers were 500")
        if settled != settled:
            violations.append(f"the system did not settle within {self.args.settle_timeout} s")
        summary = {
            "commands_accepted": len(load.accepted), "answers": dict(load.statuses),
            "kills": dict(self.kills), "settled_after_s": round(settled, 1),
            "health_back_s": {k: _spread(v) for k, v in self.health_back.items()},
            "writes_back_s": {k: _spread(v) for k, v in self.writes_back.items()},
            **{k: v for c in checks for k, v in c.figures.items()},
        }
        print(json.dumps(summary, indent=2))
        for violation in violations:
            print(f"VIOLATION: {violation}")
        print("chaos: OK" if not violations else f"chaos: {len(violations)} violation(s)")
        return 1 if violations else 0


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true",
                        help="one kill of each kind and a short settle (CI)")
    parser.add_argument("--kills", type=int, default=3, help="kills of each kind")
    parser.add_argument("--every", type=int, default=60,
                        help="commands accepted between two kills")
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--smtp-down", type=float, default=10.0)
    parser.add_argument("--settle-timeout", type=float, default=240.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory and logs")
    args = parser.parse_args()
    if args.short:
        args.kills, args.every, args.smtp_down = 1, 30, 5.0
    work = Path(tempfile.mkdtemp(prefix="trail-chaos-"))
    chaos = Chaos(args, work)
    code = 1
    try:
        chaos.start()
        code = chaos.run()
    finally:
        chaos.stop()
        if args.keep or code:
            print(f"chaos: logs and data in {work}")
        else:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    sys.exit(code)


if __name__ == "__main__":
    main()
