"""A real SMTP server for the email tests (aiosmtpd on 127.0.0.1) that records what it accepts
and can be told to refuse, stall or go away; and small builders for users and tickets."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from commands.messages import ChangeUser, CreateProject, CreateTicket, RegisterUser
from commands.permissions import Actor
from commands.services import Commands
from domain.values import Role

PASSWORD = "correct horse 42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Accepted:
    def __init__(self, rcpt: str, message: EmailMessage) -> None:
        self.rcpt = rcpt
        self.message = message
        self.at = time.time()

    @property
    def outbox_id(self) -> str:
        return str(self.message["X-Trail-Outbox-Id"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        # SMTP carries CRLF line ends; compare with what the template wrote.
        return str(body.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


class Mailbox:
    """The aiosmtpd handler: records every message it accepts, one entry per recipient."""

    def __init__(self) -> None:
        self.accepted: list[Accepted] = []
        self.lock = threading.Lock()
        # While set, every RCPT is answered 451 (greylisting, a full queue…).
        self.refusing = threading.Event()
        # RCPT answers for particular addresses, e.g. a 550 "no such mailbox".
        self.answers: dict[str, str] = {}
        # RCPT for these addresses hangs until released: a send caught in the middle.
        self.stalled: set[str] = set()
        # DATA for these addresses is recorded as accepted, then its answer hangs until
        # released: the server has the email, the sender has not heard so yet.
        self.stalled_after_accepting: set[str] = set()
        self.stall_reached = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.refusing.is_set():
            return "451 4.3.0 Try again later"
        if address in self.answers:
            return self.answers[address]
        if address in self.stalled:
            self.stall_reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.accepted.extend(Accepted(rcpt, message) for rcpt in envelope.rcpt_tos)
        if self.stalled_after_accepting.intersection(envelope.rcpt_tos):
            self.stall_reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def matching(self, predicate: Callable[[Accepted], bool]) -> list[Accepted]:
        with self.lock:
            return [a for a in self.accepted if predicate(a)]

    def wait_for(
        self, predicate: Callable[[Accepted], bool], count: int, timeout: float = 15.0
    ) -> list[Accepted]:
        """The accepted messages matching `predicate`, once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(predicate)
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"{len(found)} of {count} emails arrived"
                return found
            time.sleep(0.05)


class SmtpServer:
    """An aiosmtpd server on a fixed port, so it can be stopped and started again."""

    def __init__(self, mailbox: Mailbox, **options: Any) -> None:
        self.mailbox = mailbox
        self.port = free_port()
        self.options = options
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class People:
    """Registers users on a Trail and makes them what the test needs."""

    def __init__(self, app: Commands) -> None:
        self.app = app
        self.admin = self.user("Ada Admin", role=None)

    def user(self, name: str, role: Role | None = Role.DEVELOPER) -> Actor:
        address = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
        user_id = self.app.accounts.register(
            RegisterUser(name=name, email=address, password=PASSWORD)
        ).id
        if role is not None:
            self.app.accounts.change_user(self.admin, ChangeUser(user_id=user_id, role=role))
        return self.app.accounts.actor(user_id)

    def email_of(self, actor: Actor) -> str:
        return self.app.accounts.user(actor.id).email

    def project(self, key: str) -> uuid.UUID:
        name = f"Project {key} {uuid.uuid4().hex[:6]}"
        return self.app.projects.create(self.admin, CreateProject(name=name, key=key)).id

    def ticket(
        self, project_id: uuid.UUID, title: str, *assignees: Actor, **fields: Any
    ) -> uuid.UUID:
        command = CreateTicket(
            project_id=project_id, title=title, assignee_ids=tuple(a.id for a in assignees),
            **fields,
        )
        return self.app.tickets.create(self.admin, command).id


def for_ticket(ticket_id: uuid.UUID) -> Callable[[Accepted], bool]:
    """Matches the emails about one ticket (their `X-Trail-Ticket-Id` header)."""
    return lambda accepted: accepted.message["X-Trail-Ticket-Id"] == str(ticket_id)
