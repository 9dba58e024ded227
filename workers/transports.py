"""Where rendered emails go: an SMTP server (`SMTP_URL`) or, without one, `.eml` files.

A transport raises `TransientError` for failures worth retrying (server down, 4xx) and
`PermanentError` for answers that will not change (5xx), so the actor can decide between
backing off and giving up.
"""

from __future__ import annotations

import os
import select
import smtplib
import ssl
import threading
import time
from email.message import Message
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

# Seconds a kept connection may sit idle before it is checked with a NOOP round trip.
NOOP_AFTER_IDLE = 30.0


class DeliveryError(Exception):
    """A send did not go through."""


class TransientError(DeliveryError):
    """Worth trying again later. `outage`: the server could not be reached or would not talk
    (refused, timed out, dropped the connection, 421), so every email fails alike until it is
    back; otherwise it refused this one email for now (a 4xx to its recipient)."""

    def __init__(self, message: str, *, outage: bool = False) -> None:
        super().__init__(message)
        self.outage = outage


class PermanentError(DeliveryError):
    """The server refused for good (5xx); trying again would get the same answer."""


class Transport(Protocol):
    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


class SmtpConfig:
    """The parts of `smtp[s]://user:password@host:port` the client needs."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        if not parts.hostname:
            raise ValueError("SMTP_URL needs a host")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None


class SmtpTransport:
    """One connection per worker thread, kept open between messages (a handshake per email
    would cap throughput well below what the server can take)."""

    def __init__(self, url: str, timeout: float, context: ssl.SSLContext | None = None) -> None:
        self.config = SmtpConfig(url)
        self.timeout = timeout
        # The system's trusted CAs unless a deployment (or a test) brings its own.
        self.context = context or ssl.create_default_context()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[smtplib.SMTP] = []

    def send(self, message: Message) -> None:
        client = self._usable_client()
        try:
            client.send_message(message)
            self._local.used_at = time.monotonic()
        except smtplib.SMTPResponseException as error:
            self._discard(client)
            raise _classified(error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPRecipientsRefused as error:
            # Every email has exactly one recipient, so this is its refusal.
            self._discard(client)
            code, text = next(iter(error.recipients.values()))
            raise _classified(code, text) from error
        except (smtplib.SMTPException, OSError) as error:
            self._discard(client)
            raise TransientError(f"SMTP send failed: {error!r}", outage=True) from error

    def _usable_client(self) -> smtplib.SMTP:
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        # A kept connection may have been dropped by the server (restart, idle timeout): find
        # out before anything is sent, so a reconnect costs no retry and risks no double.
        if client is not None and not _still_open(client, getattr(self._local, "used_at", 0.0)):
            self._discard(client)
            client = None
        if client is None:
            try:
                client = self._connect()
            except smtplib.SMTPResponseException as error:
                raise _classified(error.smtp_code, error.smtp_error) from error
            except (smtplib.SMTPException, OSError) as error:
                raise TransientError(f"cannot reach the SMTP server: {error!r}",
                                     outage=True) from error
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def _connect(self) -> smtplib.SMTP:
        config, context = self.config, self.context
        client: smtplib.SMTP
        if config.implicit_tls:
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
        try:
            client.ehlo()
            if not config.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, config.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _discard(self, client: smtplib.SMTP) -> None:
        self._local.client = None
        with self._lock:
            if client in self._all:
                self._all.remove(client)
        _quietly_quit(client)

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            _quietly_quit(client)


def _still_open(client: smtplib.SMTP, used_at: float) -> bool:
    if client.sock is None:
        return False
    # Between messages the server has nothing to say: a readable socket means it closed the
    # connection (or sent a 421 before closing). Free, unlike a NOOP round trip per email.
    if select.select([client.sock], [], [], 0)[0]:
        return False
    if time.monotonic() - used_at < NOOP_AFTER_IDLE:
        return True
    # Long idle: a connection dropped without a FIN (a NAT timeout) only shows on use.
    try:
        return client.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quietly_quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _classified(code: int, text: bytes | str) -> DeliveryError:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else text
    message = f"SMTP {code} {detail}".strip()
    if 500 <= code < 600:
        return PermanentError(message)
    # 421: the service is not available (shutting down, overloaded), whoever the email is for.
    return TransientError(message, outage=code == 421)


class FileTransport:
    """Writes each email to `<directory>/<outbox id>.eml`.

    Named by the outbox row, so a repeated send overwrites instead of doubling; written to a
    temporary name and renamed, so a reader never sees half a message.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message) -> None:
        name = message["X-Trail-Outbox-Id"] or message["Message-ID"].strip("<>")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / f"{name}.eml"
            temporary = self.directory / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
            temporary.write_bytes(message.as_bytes())
            temporary.replace(target)
        except OSError as error:
            raise TransientError(f"cannot write {self.directory}: {error}", outage=True) from error

    def close(self) -> None:
        """Nothing stays open between files."""


def make_transport(smtp_url: str | None, data_dir: Path, timeout: float) -> Transport:
    if smtp_url:
        return SmtpTransport(smtp_url, timeout)
    return FileTransport(data_dir / "mail")


__all__ = [
    "DeliveryError",
    "FileTransport",
    "PermanentError",
    "SmtpTransport",
    "TransientError",
    "Transport",
    "make_transport",
]
