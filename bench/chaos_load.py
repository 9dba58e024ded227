"""The load and the mail server of bench/chaos.py.

`Load`: writers that send commands over HTTP for as long as they run, riding out whatever the
chaos does (a refused connection, a 503: wait a little and go on) and recording each command the
API accepted (2xx) with the position it answered. `Sink`: an aiosmtpd server in a process of its
own, so it can be SIGKILLed like any other and started again on its port, recording one line
per recipient it accepts: `outbox_id message_id rcpt`.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench.chaos_checks import Accepted

PASSWORD = "chaos password 1"
DEVELOPERS = 3
REPO = Path(__file__).resolve().parent.parent


class Load:
    def __init__(self, url: str, writers: int) -> None:
        self.url = url
        self.writers = writers
        self.accepted: list[Accepted] = []
        self.statuses: Counter[str] = Counter()
        self.server_errors = 0
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ set-up

    def seed(self) -> None:
        """An admin (the first account), developers and a project, through the API."""
        self._register("Chaos Admin", "admin@chaos.example")
        admin = self._token("admin@chaos.example")
        self.developer_ids = []
        self.tokens = []
        for n in range(DEVELOPERS):
            email = f"dev{n}@chaos.example"
            user = self._register(f"Chaos Developer {n}", email)
            self._must("PATCH", f"/users/{user['id']}", admin, {"role": "developer"})
            self.developer_ids.append(user["id"])
            self.tokens.append(self._token(email))
        self.project_id = self._must("POST", "/projects", admin,
                                     {"name": "Chaos", "key": "CHAOS"})["id"]

    def _register(self, name: str, email: str) -> Any:
        return self._must("POST", "/auth/register", None,
                          {"name": name, "email": email, "password": PASSWORD})

    def _token(self, email: str) -> str:
        body = {"email": email, "password": PASSWORD}
        return str(self._must("POST", "/auth/token", None, body)["access_token"])

    def _must(self, method: str, path: str, token: str | None, body: Any) -> Any:
        with httpx.Client(timeout=15) as client:
            for _ in range(100):
                status, answer, _ = self._call(client, method, path, token, body)
                if status in (200, 201):
                    return answer
                time.sleep(0.3)
        raise SystemExit(f"chaos: {method} {path} kept failing during set-up")

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        for n in range(self.writers):
            thread = threading.Thread(target=self._write, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(60)

    def accepted_count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def wait_for_more(self, commands: int) -> None:
        with self._lock:
            target = len(self.accepted) + commands
            self._lock.wait_for(lambda: len(self.accepted) >= target)

    def _write(self, n: int) -> None:
        rng = random.Random(n)
        token = self.tokens[n % len(self.tokens)]
        tickets: list[str] = []
        with httpx.Client(timeout=15) as client:
            while not self._stopping.is_set():
                if not tickets or rng.random() < 0.3:
                    body = {"project_id": self.project_id, "title": f"chaos {uuid.uuid4()}",
                            "assignee_ids": rng.sample(self.developer_ids, 2)}
                    method, path = "POST", "/tickets"
                elif rng.random() < 0.5:
                    method, path = "PATCH", f"/tickets/{rng.choice(tickets)}"
                    body = {"title": f"renamed {uuid.uuid4()}"}
                else:
                    method, path = "POST", f"/tickets/{rng.choice(tickets)}/comments"
                    body = {"body": f"comment {uuid.uuid4()}"}
                status, answer, position = self._call(client, method, path, token, body)
                if status in (200, 201) and position is not None:
                    if path == "/tickets":
                        tickets.append(answer["id"])
                    # A comment's event may live on an aggregate of its own: its position is
                    # checked, not its owner.
                    aggregate = None if path.endswith("/comments") else UUID(answer["id"])
                    with self._lock:
                        self.accepted.append(Accepted(position, aggregate))
                        self._lock.notify_all()
                elif status in (0, 503, 409):
                    time.sleep(0.2)

    def _call(self, client: httpx.Client, method: str, path: str, token: str | None,
              body: Any) -> tuple[int, Any, int | None]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = client.request(method, self.url + path, json=body, headers=headers)
        except httpx.HTTPError as error:
            self._count(type(error).__name__)
            return 0, None, None
        self._count(str(response.status_code))
        if response.status_code >= 500 and response.status_code != 503:
            with self._lock:
                self.server_errors += 1
        position = response.headers.get("Trail-Position")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return response.status_code, answer, int(position) if position else None

    def _count(self, what: str) -> None:
        with self._lock:
            self.statuses[what] += 1


class Sink:
    def __init__(self, record: Path) -> None:
        self.record = record
        record.touch()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.chaos_load", str(self.port), str(self.record)],
            cwd=REPO, stdout=subprocess.PIPE)
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == b"ready"

    def kill(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)


def _serve_smtp(port: int, record: Path) -> None:
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    out = record.open("a", buffering=1)

    class Recorder:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            headers = BytesHeaderParser().parsebytes(envelope.content)
            for rcpt in envelope.rcpt_tos:
                out.write(f"{headers['X-Trail-Outbox-Id']} {headers['Message-ID']} {rcpt}\n")
            return "250 Message accepted for delivery"

    controller = Controller(Recorder(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    _serve_smtp(int(sys.argv[1]), Path(sys.argv[2]))
