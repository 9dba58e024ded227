"""Turns an outbox row into an email: jinja2 templates for the plain-text and HTML parts."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from uuid import UUID

import jinja2

from projections.outbox import EmailPayload, PasswordResetEmail, Person, TicketEmail

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
}
# Free text reads better as a block than squeezed into one `from → to` line.
LONG_FIELDS = frozenset({"description", "comment"})
# Stored values are the API's; people read "in progress".
_VALUE_WORDS = {"in_progress": "in progress"}


class Renderer:
    def __init__(self, *, mail_from: str, base_url: str) -> None:
        self.mail_from = mail_from
        self.base_url = base_url.rstrip("/")
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

    def render(self, email_id: UUID, subject: str, payload: EmailPayload) -> EmailMessage:
        match payload:
            case TicketEmail():
                name = "ticket"
                context: dict[str, object] = {
                    "email": payload,
                    "link": f"{self.base_url}/tickets/{payload.ticket_id}",
                }
            case PasswordResetEmail():
                name = "password_reset"
                context = {"email": payload, "link": payload.link}
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.mail_from
        message["To"] = _address(payload.recipient)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # Derived from the row, so a copy that did go out twice is recognisable as one email.
        message["Message-ID"] = f"<{email_id}@{_domain(self.mail_from)}>"
        message["X-Trail-Outbox-Id"] = str(email_id)
        # Quoted-printable keeps the plain part readable in raw form (and in .eml files).
        message.set_content(
            self.env.get_template(f"{name}.txt").render(context), cte="quoted-printable"
        )
        message.add_alternative(
            self.env.get_template(f"{name}.html").render(context), subtype="html"
        )
        return message


def _address(person: Person) -> Address:
    username, _, domain = person.email.rpartition("@")
    return Address(display_name=person.name, username=username, domain=domain)


def _domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "trail.localhost"
