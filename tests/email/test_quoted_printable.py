"""Email bodies go out as UTF-8 in quoted-printable: whatever the text (a comment pasted with
CRLF, trailing spaces, `=` signs, emoji, very long lines), a mail client reads back exactly
what was written, line breaks aside, from lines of at most 76 ASCII characters."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from projections.outbox.payloads import Person, TicketEmail
from workers.render import Renderer, quoted_printable

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@given(_TEXT)
def test_any_text_reads_back_from_the_encoded_body(text: str) -> None:
    encoded = quoted_printable(text)
    assert encoded.isascii()
    assert all(len(line) <= 76 for line in encoded.splitlines())
    decoded = email.message_from_string(
        f"Content-Transfer-Encoding: quoted-printable\n\n{encoded}").get_payload(decode=True)
    assert _lines(decoded.decode("utf-8")) == _lines(text)


@given(_TEXT)
def test_a_rendered_email_carries_the_title_as_written(title: str) -> None:
    renderer = Renderer(mail_from="Trail <trail@trail.test>", ticket_link=lambda k: f"/t/{k}")
    recipient = Person(uuid.uuid4(), "Max", "max@example.com")
    payload = TicketEmail(
        ticket_id=uuid.uuid4(), ticket_key="OPS-7", title=title, created=True, actor_name="Ada",
        at=datetime.now(UTC), changes=[], assignees=[recipient], recipient=recipient,
        removed=False)
    raw = renderer.render(uuid.uuid4(), "[OPS-7] a title", payload).as_bytes(
        policy=email.policy.SMTP)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    received = email.message_from_bytes(raw, policy=email.policy.SMTP)
    plain = received.get_body(("plain",))
    assert plain is not None
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    shown = "\n".join(_lines(plain.get_content()))
    assert "\n".join(_lines(title)).strip() in shown
