"""Turns an outbox row into an email: jinja2 templates for the plain-text and HTML parts."""

from __future__ import annotations

import binascii
import email.errors
import re
from collections.abc import Callable
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32, EmailPolicy
from email.utils import formataddr, formatdate, parseaddr, quote
from pathlib import Path
from uuid import UUID

import jinja2

from projections.outbox.payloads import (
    DigestEmail,
    EmailPayload,
    PasswordResetEmail,
    Person,
    TicketEmail,
)
from workers.transports import PermanentError

TEMPLATES = Path(__file__).parent / "templates"

LABELS = {
    "title": "Title",
    "description": "Description",
    "status": "Status",
    "priority": "Priority",
    "type": "Type",
    "tags": "Tags",
    "due_date": "Due date",
    "assignee_ids": "Assignees",
    "comment": "Comment",
    "parent_id": "Parent",
    "team_id": "Team",
    "links": "Links",
    "attachment_added": "Attachment added",
    "attachment_removed": "Attachment removed",
}
# Free text reads better as a block than squeezed into one `from → to` line.
LONG_FIELDS = frozenset({"description", "comment"})
# Stored values are the API's; people read "in progress".
_VALUE_WORDS = {"in_progress": "in progress"}


# Whatever could end a header line: every control character (CR, LF, and the FS, GS, RS and
# NEL that `str.splitlines` breaks on) and U+2028/2029. Titles and names holding one are refused
# since (domain.values), but events recorded before may have them: here they become a space,
# so data in the log can never forge a header line.
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# A generated header may go on to a next line only when that line starts with a space or a tab
# (folding); any other line would be a header of its own. This is CPython's
# `verify_generated_headers` check, which not every Python 3.11 this runs on has.
_NEWLINE_WITHOUT_FWSP = re.compile(r"\r\n[^ \t]|\r[^ \n\t]|\n[^ \t]")
_NEWLINE_WITHOUT_FWSP_BYTES = re.compile(rb"\r\n[^ \t]|\r[^ \n\t]|\n[^ \t]")


class UnsendableEmail(PermanentError):
    """The row cannot become a valid email: a header that does not parse or would break its
    line, an address that is not one. Building it again gives the same answer, so the row is
    marked failed at once (the worker's rule for a `PermanentError`), never retried."""


class HeaderInjection(UnsendableEmail, email.errors.MessageError):
    """A header would have come out as more than one header line."""


def _verified_text(name: str, folded: str, linesep: str) -> str:
    if not folded.endswith(linesep) or _NEWLINE_WITHOUT_FWSP.search(folded[: -len(linesep)]):
        raise HeaderInjection(f"the {name} header would break its line")
    return folded


def _verified_bytes(name: str, folded: bytes, linesep: str) -> bytes:
    end = linesep.encode("ascii")
    if not folded.endswith(end) or _NEWLINE_WITHOUT_FWSP_BYTES.search(folded[: -len(end)]):
        raise HeaderInjection(f"the {name} header would break its line")
    return folded


class _Compat32(Compat32):
    """compat32 that verifies every header it writes, with a short cut for headers that need
    no folding or encoding.

    compat32 builds and encodes a `Header` object for every header it writes, which was a
    quarter of a worker's CPU per email. Ours are ASCII (non-ASCII is RFC 2047-encoded before
    it gets here) and mostly short: those are written as they are, the rest as before.
    """

    def fold(self, name: str, value: str) -> str:
        return _verified_text(name, super().fold(name, value), self.linesep)

    def fold_binary(self, name: str, value: str) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and _LINE_BREAKING.search(value) is None
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return _verified_bytes(name, super().fold_binary(name, value), self.linesep)


class _StrictSMTP(EmailPolicy):
    """The `SMTP` policy (for the rare email to a non-ASCII address, sent with SMTPUTF8) that
    verifies every header it writes as `_Compat32` does."""

    def fold(self, name: str, value: str) -> str:
        return _verified_text(name, super().fold(name, value), self.linesep)

    def fold_binary(self, name: str, value: str) -> bytes:
        return _verified_bytes(name, super().fold_binary(name, value), self.linesep)


_POLICY = _Compat32(raise_on_defect=True)
_SMTP_POLICY = _StrictSMTP(linesep="\r\n", raise_on_defect=True)


class Renderer:
    def __init__(self, *, mail_from: str, ticket_link: Callable[[str], str]) -> None:
        # Encoded once (RFC 2047 for a non-ASCII display name): the From of every email.
        self.mail_from = formataddr(parseaddr(mail_from), charset="utf-8")
        # Where a ticket's email links to, given its key: the web app's page of the ticket at
        # the deployment's public URL, from settings.
        self.ticket_link = ticket_link
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            # Only the .html templates are escaped; the plain-text part must stay literal.
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["label"] = lambda field: LABELS.get(field, field.replace("_", " "))
        self.env.filters["word"] = lambda value: _VALUE_WORDS.get(value, value)
        self.env.tests["long"] = lambda field: field in LONG_FIELDS

    def list_id(self, ticket_key: str) -> str:
        return list_id(self.mail_from, ticket_key)

    def render(
        self, email_id: UUID, subject: str, payload: EmailPayload, position: int | None = None
    ) -> Message:
        """The email of an outbox row; `UnsendableEmail` when the row cannot make one."""
        try:
            return self._render(email_id, subject, payload, position)
        except UnsendableEmail:
            raise
        except (ValueError, LookupError, email.errors.MessageError) as error:
            # UnicodeError included (a lone surrogate in a name): the same row fails the same
            # way every time.
            raise UnsendableEmail(f"the email cannot be built: {error}") from error

    def _render(
        self, email_id: UUID, subject: str, payload: EmailPayload, position: int | None
    ) -> Message:
        match payload:
            case TicketEmail():
                name = "ticket"
                context: dict[str, object] = {
                    "email": payload,
                    "link": self.ticket_link(payload.ticket_key),
                }
            case PasswordResetEmail():
                name = "password_reset"
                context = {"email": payload, "link": payload.link}
            case DigestEmail():
                name = "digest"
                context = {"email": payload, "link": self.ticket_link}
        # The legacy MIME classes with the compat32 policy: the same message in a third of the
        # time of EmailMessage's header registry, which was most of a worker's CPU per email.
        # A non-ASCII address goes out with SMTPUTF8, which smtplib only does under a modern
        # policy: those rare emails pay for it.
        international = not payload.recipient.email.isascii()
        message = MIMEMultipart(
            "alternative", policy=_SMTP_POLICY if international else _POLICY
        )
        # A boundary of our own: the generator would otherwise compile a regex per message to
        # check a random one. "=_" never occurs in quoted-printable text, so this one is safe.
        message.set_boundary(f"=_trail_{email_id.hex}")
        message["Subject"] = _header(one_line(subject), international)
        message["From"] = self.mail_from
        message["To"] = _address(payload.recipient)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # Derived from the row, so a copy that did go out twice is recognisable as one email.
        domain = _domain(self.mail_from)
        message["Message-ID"] = f"<{email_id}@{domain}>"
        # Sent by a machine: no vacation replies or other auto-answers (RFC 3834; Outlook).
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        if isinstance(payload, TicketEmail):
            # One thread per ticket: every email about it answers the same root, which is
            # never sent itself, so mail clients group them even as the title changes.
            root = f"<ticket-{payload.ticket_id}@{domain}>"
            message["In-Reply-To"] = root
            message["References"] = root
            message["List-Id"] = self.list_id(payload.ticket_key)
        message["X-Trail-Outbox-Id"] = str(email_id)
        if position is not None:
            # The log position of the change: ties an email to its event for support and audits.
            message["X-Trail-Position"] = str(position)
        if isinstance(payload, TicketEmail):
            # The ticket's id, now that the link names its key: for mail filters and tests.
            message["X-Trail-Ticket-Id"] = str(payload.ticket_id)
        for name_suffix, subtype in (("txt", "plain"), ("html", "html")):
            body = self.env.get_template(f"{name}.{name_suffix}").render(context)
            part = MIMENonMultipart("text", subtype, policy=_POLICY, charset="utf-8")
            part["Content-Transfer-Encoding"] = "quoted-printable"
            part.set_payload(quoted_printable(body))
            message.attach(part)
        return message


def quoted_printable(text: str) -> str:
    """`text` as UTF-8 in quoted-printable (RFC 2045), lines kept, at most 76 characters each:
    mostly ASCII, so it stays readable in raw form (and in .eml files), where base64 would not.
    binascii's encoder, in C: the email package's own, in Python, was a third of rendering."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")


def list_id(mail_from: str, ticket_key: str) -> str:
    """`WEB <web.trail.localhost>`: one list per project, named under the sender's own address
    (local part and domain), so it is unique to this deployment (RFC 2919)."""
    project_key = ticket_key.rsplit("-", 1)[0]
    local, _, domain = parseaddr(mail_from)[1].partition("@")
    label = re.sub(r"[^a-z0-9-]", "-", local.lower()) or "trail"
    return f"{project_key} <{project_key.lower()}.{label}.{domain or 'localhost'}>"


def one_line(value: str) -> str:
    """`value` with every run of line-breaking characters made one space."""
    return _LINE_BREAKING.sub(" ", value).strip()


def _header(value: str, international: bool = False) -> str:
    if value.isascii():
        return value
    # The SMTP policy takes no value written on several lines: it folds the header itself.
    return Header(value, "utf-8").encode(maxlinelen=0 if international else None)


def _address(person: Person) -> str:
    address = person.email
    # An address is the recipient itself: rather than send elsewhere, a row whose address
    # holds a line break or is no single address fails.
    if _LINE_BREAKING.search(address) or parseaddr(address)[1] != address or "@" not in address:
        raise UnsendableEmail(f"the recipient address {address!r} is not one address")
    name = one_line(person.name)
    if address.isascii():
        return formataddr((name, address), charset="utf-8")
    # formataddr refuses a non-ASCII address; the SMTPUTF8 policy writes the header as UTF-8.
    # An ASCII name is quoted, so a comma in it does not make two recipients.
    display = f'"{quote(name)}"' if name.isascii() else _header(name, international=True)
    return f"{display} <{address}>"


def _domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "trail.localhost"
