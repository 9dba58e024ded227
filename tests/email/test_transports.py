"""The transports on their own: SMTP URLs (STARTTLS, implicit TLS, login) against real aiosmtpd
servers with a throwaway certificate, and the `.eml` files used without SMTP_URL."""

from __future__ import annotations

import ssl
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from projections.outbox.payloads import FieldChange, Person, TicketEmail
from tests.email.support import Mailbox, SmtpServer
from workers.render import Renderer
from workers.transports import (
    FileTransport,
    PermanentError,
    SmtpConfig,
    SmtpTransport,
    TransientError,
    make_transport,
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture(scope="module")
def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def _authenticate(server: object, session: object, envelope: object, mechanism: str,
                  auth_data: object) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"mailer", b"p@ss word",
    )
    # handled=False: aiosmtpd then answers the refusal itself (535).
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(server_context: ssl.SSLContext) -> Iterator[SmtpServer]:
    server = SmtpServer(
        Mailbox(), tls_context=server_context, require_starttls=True,
        authenticator=_authenticate, auth_require_tls=True,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def implicit_tls_server(server_context: ssl.SSLContext) -> Iterator[SmtpServer]:
    server = SmtpServer(
        Mailbox(), ssl_context=server_context,
        authenticator=_authenticate, auth_require_tls=False,
    )
    server.start()
    yield server
    server.stop()


def _message(to: str = "someone@example.com") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "[T-1] Hello"
    message["From"] = "Trail <trail@trail.test>"
    message["To"] = to
    message["X-Trail-Outbox-Id"] = str(uuid.uuid4())
    message.set_content("Hello")
    return message


def test_smtp_url_parts() -> None:
    config = SmtpConfig("smtps://me%40corp:s%3Acret@mail.example.com")
    assert (config.implicit_tls, config.host, config.port) == (True, "mail.example.com", 465)
    assert (config.username, config.password) == ("me@corp", "s:cret")
    plain = SmtpConfig("smtp://relay:2525")
    assert (plain.implicit_tls, plain.port, plain.username) == (False, 2525, None)
    assert SmtpConfig("smtp://relay").port == 25
    with pytest.raises(ValueError, match="smtp://"):
        SmtpConfig("http://relay")


def test_starttls_with_login(
    starttls_server: SmtpServer, client_context: ssl.SSLContext
) -> None:
    url = f"smtp://mailer:p%40ss%20word@127.0.0.1:{starttls_server.port}"
    transport = SmtpTransport(url, timeout=5, context=client_context)
    try:
        transport.send(_message())
        transport.send(_message("other@example.com"))
    finally:
        transport.close()
    assert [a.rcpt for a in starttls_server.mailbox.accepted] == [
        "someone@example.com", "other@example.com",
    ]


def test_a_wrong_password_is_a_permanent_failure(
    starttls_server: SmtpServer, client_context: ssl.SSLContext
) -> None:
    url = f"smtp://mailer:wrong@127.0.0.1:{starttls_server.port}"
    transport = SmtpTransport(url, timeout=5, context=client_context)
    with pytest.raises(PermanentError, match="535"):
        transport.send(_message())
    assert starttls_server.mailbox.accepted == []


def test_implicit_tls_with_login(
    implicit_tls_server: SmtpServer, client_context: ssl.SSLContext
) -> None:
    url = f"smtps://mailer:p%40ss%20word@127.0.0.1:{implicit_tls_server.port}"
    transport = SmtpTransport(url, timeout=5, context=client_context)
    try:
        transport.send(_message())
    finally:
        transport.close()
    assert len(implicit_tls_server.mailbox.accepted) == 1


def test_an_untrusted_certificate_is_not_accepted(implicit_tls_server: SmtpServer) -> None:
    transport = SmtpTransport(f"smtps://127.0.0.1:{implicit_tls_server.port}", timeout=5)
    with pytest.raises(TransientError, match="CERTIFICATE_VERIFY_FAILED"):
        transport.send(_message())


def test_a_server_that_is_not_there_is_a_transient_failure() -> None:
    transport = SmtpTransport(f"smtp://127.0.0.1:{SmtpServer(Mailbox()).port}", timeout=2)
    with pytest.raises(TransientError, match="cannot reach"):
        transport.send(_message())


def test_without_smtp_url_emails_are_eml_files_written_once_per_email(tmp_path: Path) -> None:
    transport = make_transport(None, tmp_path, timeout=5)
    assert isinstance(transport, FileTransport)
    message = _message()
    transport.send(message)
    transport.send(message)
    [written] = (tmp_path / "mail").iterdir()
    assert written.name == f"{message['X-Trail-Outbox-Id']}.eml"
    assert b"Subject: [T-1] Hello" in written.read_bytes()


def test_non_ascii_names_subjects_and_addresses_arrive_intact() -> None:
    server = SmtpServer(Mailbox())
    server.start()
    transport = SmtpTransport(server.url, timeout=5)
    renderer = Renderer(mail_from="Tráil <trail@example.com>",
                        ticket_link=lambda ticket_key: f"http://trail.test/t/{ticket_key}")
    try:
        for address in ("dave@example.com", "dävé@exämple.com"):
            dave = Person(id=uuid.uuid4(), name="Dävé Ünïcode", email=address)
            payload = TicketEmail(
                ticket_id=uuid.uuid4(), ticket_key="UNI-1", title="Fix ✓", created=False,
                actor_name="Mäx", at=datetime.now(UTC),
                changes=[FieldChange("title", "Fix", "Fix ✓")], assignees=[dave],
                recipient=dave, removed=False,
            )
            transport.send(renderer.render(uuid.uuid4(), "[UNI-1] Fix ✓", payload, 1))
    finally:
        transport.close()
        server.stop()
    for accepted, address in zip(
        server.mailbox.accepted, ("dave@example.com", "dävé@exämple.com"), strict=True
    ):
        assert accepted.rcpt == address
        assert str(accepted.message["To"]) == f"Dävé Ünïcode <{address}>"
        assert str(accepted.message["From"]) == "Tráil <trail@example.com>"
        assert str(accepted.message["Subject"]) == "[UNI-1] Fix ✓"
        assert "Title: Fix → Fix ✓" in accepted.part("plain")
