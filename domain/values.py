"""Value types and field rules shared by the aggregates: every field rule of the contract."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from domain.errors import FieldError


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class TicketType(StrEnum):
    BUG = "bug"
    FEATURE = "feature"
    TASK = "task"
    SUPPORT = "support"


class Role(StrEnum):
    ADMIN = "admin"
    DEVELOPER = "developer"
    REPORTER = "reporter"


class UserStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    DEACTIVATED = "deactivated"


class EmailPreference(StrEnum):
    """How a user wants the emails about the tickets it works on."""

    EACH_CHANGE = "each_change"
    DAILY_DIGEST = "daily_digest"
    OFF = "off"


WORKFLOW: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

# Sort rank for `sort=priority`: urgent first.
PRIORITY_RANK: dict[Priority, int] = {
    Priority.URGENT: 0,
    Priority.HIGH: 1,
    Priority.MEDIUM: 2,
    Priority.LOW: 3,
}

UNRESOLVED = frozenset({Status.OPEN, Status.IN_PROGRESS})
# Done, for a blocker and for a parent's progress: neither open nor in progress.
DONE = frozenset({Status.RESOLVED, Status.CLOSED})

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000
MESSAGE_MAX = 4_000
TAGS_MAX = 20
# Assignees of one ticket: each must be checked (an active developer or admin), so a list is
# bounded, and the same person twice is one.
ASSIGNEES_MAX = 100
TAG_PATTERN = re.compile(r"^[a-z0-9-]{1,40}$")
NAME_MIN, NAME_MAX = 3, 100
PROJECT_DESCRIPTION_MAX = 2_000
PROJECT_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
# A ticket's key, `<project key>-<number>`, matched ignoring case.
TICKET_KEY_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([1-9][0-9]{0,9})$")
FILENAME_MAX = 255
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# C0, DEL, C1 and the Unicode line and paragraph separators: a one-line field holds none of
# them, so it cannot break a line of an email header (`\x1c` and U+2028 are line breaks to
# `str.splitlines`), a list or a terminal.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Characters that show nothing beside whitespace and format characters (zero-width spaces and
# joiners, direction marks, the BOM, tags): Unicode's default-ignorable code points of other
# categories and the Hangul and braille blanks. A text of these alone reads as blank.
_BLANKS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)
_SIZE_UNITS = ("KB", "MB", "GB", "TB")


class Stamp(msgspec.Struct, frozen=True):
    """Who does a command, which command it is and when: passed in, never read from the clock."""

    actor_id: UUID
    command_id: UUID
    at: datetime


def clean_text(
    errors: list[FieldError], field: str, value: str, *, low: int, high: int
) -> str:
    """Trim, then measure: the contract measures and stores strings trimmed."""
    text = value.strip()
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL: refusing it here keeps it out of the event log.
        errors.append(FieldError(field, "must not contain NUL characters"))
    elif len(text) < low:
        message = "must not be blank" if low == 1 else f"must be at least {low} characters"
        errors.append(FieldError(field, message))
    elif len(text) > high:
        errors.append(FieldError(field, f"must be at most {high} characters"))
    return text


def clean_line(errors: list[FieldError], field: str, value: str, *, low: int, high: int) -> str:
    """`clean_text` for a one-line field: control characters (line breaks, tabs, escapes)
    would break every list and email header that shows it, so they are refused; a required
    one with no visible character is blank."""
    known = len(errors)
    text = clean_text(errors, field, value, low=low, high=high)
    if len(errors) > known:
        return text
    if not is_one_line(text):
        errors.append(FieldError(field, "must be one line without control characters"))
    elif low > 0 and not is_visible(text):
        errors.append(FieldError(field, "must not be blank"))
    return text


def is_one_line(text: str) -> bool:
    return _NOT_ONE_LINE.search(text) is None


def is_visible(text: str) -> bool:
    """Whether `text` shows at least one character: not only spaces, zero-width or direction
    marks and other characters that render as nothing."""
    return any(
        not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf", "Zs", "Zl", "Zp")
        and c not in _BLANKS and not 0xE0000 <= ord(c) <= 0xE0FFF
        for c in text
    )


def clean_title(errors: list[FieldError], value: str) -> str:
    return clean_line(errors, "title", value, low=1, high=TITLE_MAX)


def clean_description(errors: list[FieldError], value: str | None) -> str | None:
    if value is None:
        return None
    text = clean_text(errors, "description", value, low=0, high=DESCRIPTION_MAX)
    return text or None


def clean_name(errors: list[FieldError], value: str) -> str:
    return clean_line(errors, "name", value, low=NAME_MIN, high=NAME_MAX)


def clean_comment(errors: list[FieldError], value: str) -> str:
    return clean_text(errors, "body", value, low=1, high=COMMENT_MAX)


def clean_message(errors: list[FieldError], value: str) -> str:
    return clean_text(errors, "body", value, low=1, high=MESSAGE_MAX)


def check_attachment(errors: list[FieldError], filename: str, size: int, sha256: str) -> None:
    """What an attachment must be, whoever stored its bytes: a one-line name of 1..255
    characters, a size, and the sha256 its bytes are kept under. The part of the upload is
    `file`, so that is the field named."""
    if not 1 <= len(filename) <= FILENAME_MAX:
        errors.append(FieldError("file", f"the filename must be 1..{FILENAME_MAX} characters"))
    elif not is_one_line(filename):
        errors.append(FieldError("file", "the filename must not contain control characters"))
    if size < 0:
        errors.append(FieldError("file", "the size cannot be negative"))
    if not SHA256_PATTERN.match(sha256):
        errors.append(FieldError("file", "the sha256 must be 64 lowercase hex digits"))


def format_size(size: int) -> str:
    """A byte count as people read it, in powers of 1000: `512 bytes`, `120 KB`, `1.2 MB`."""
    if size < 1000:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in _SIZE_UNITS:
        value /= 1000
        if value < 999.5 or unit == _SIZE_UNITS[-1]:
            break
    return f"{value:.1f} {unit}" if value < 9.95 else f"{value:.0f} {unit}"


def clean_tags(errors: list[FieldError], values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Tags keep their first-seen order; duplicates collapse to one."""
    tags = tuple(dict.fromkeys(v.strip() for v in values))
    if len(tags) > TAGS_MAX:
        errors.append(FieldError("tags", f"at most {TAGS_MAX} tags"))
    bad = [t for t in tags if not TAG_PATTERN.match(t)]
    if bad:
        errors.append(
            FieldError("tags", f"each tag is 1..40 characters of a-z, 0-9 and '-': {bad[0]!r}")
        )
    return tags


def clean_assignees(
    errors: list[FieldError], field: str, values: Iterable[UUID]
) -> tuple[UUID, ...]:
    """Assignees keep their first-seen order; duplicates collapse to one; at most 100."""
    assignees = tuple(dict.fromkeys(values))
    if len(assignees) > ASSIGNEES_MAX:
        errors.append(FieldError(field, f"at most {ASSIGNEES_MAX} different people"))
    return assignees


def clean_project_key(errors: list[FieldError], value: str) -> str:
    key = value.strip()
    if not PROJECT_KEY_PATTERN.match(key):
        errors.append(
            FieldError("key", "must be 2..10 characters of A-Z and 0-9, starting with a letter")
        )
    return key


def derive_project_key(name: str) -> str:
    """A key from a name: initials of its words, or its leading letters when it is one word."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    letters = [w for w in words if w[0].isalpha()]
    key = "".join(w[0] for w in letters) if len(letters) >= 2 else "".join(words)
    key = re.sub(r"[^A-Z0-9]", "", key.upper())
    key = key.lstrip("0123456789")[:10]
    return key if len(key) >= 2 else (key + "PRJ")[:10] if key else "PRJ"


def parse_ticket_key(text: str) -> tuple[str, int] | None:
    """(project key, number) of a ticket key such as `web-42`; None when `text` is not one."""
    match = TICKET_KEY_PATTERN.match(text.strip())
    if match is None:
        return None
    return match.group(1).upper(), int(match.group(2))


def ticket_key(project_key: str, number: int) -> str:
    return f"{project_key}-{number}"


def normalise_email(email: str) -> str:
    return email.strip().lower()

