"""Pages: jinja2 templates rendered on the server, and the few filters they share.

Every page is a whole document, so any URL can be bookmarked, shared or opened without
JavaScript; htmx only swaps parts of one page for the same URL's newer or older state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

STATIC_DIR = Path(__file__).parent / "static"

LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "closed": "Closed",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "urgent": "Urgent",
    "bug": "Bug",
    "feature": "Feature",
    "task": "Task",
    "support": "Support",
    "admin": "Admin",
    "developer": "Developer",
    "reporter": "Reporter",
    "active": "Active",
    "pending": "Pending approval",
    "deactivated": "Deactivated",
    "sent": "Sent",
    "failed": "Failed",
}

FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "status": "Status",
    "priority": "Priority",
    "type": "Type",
    "tags": "Tags",
    "due_date": "Due date",
    "assignee_ids": "Assignees",
    "reporter_id": "Reporter",
    "project_id": "Project",
    "number": "Number",
    "comment": "Comment",
    "attachment_ids": "Attachments",
    "links": "Links",
    "parent_id": "Parent",
    "team_id": "Team",
}


@cache
def asset_version(name: str) -> str:
    """A short digest of a static file, so its URL changes whenever its bytes do."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static(name: str) -> str:
    return f"/static/{name}?v={asset_version(name)}"


def label(value: Any) -> str:
    if value is None:
        return "—"
    text = str(getattr(value, "value", value))
    return LABELS.get(text, text.replace("_", " ").capitalize())


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def iso(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def when(moment: datetime | None) -> Markup:
    """A moment as `<time>`: UTC on the server, the reader's own zone once the page's script
    has run (it rewrites every `time[data-local]`)."""
    if moment is None:
        return Markup("—")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}" data-local>{}</time>').format(iso(utc), text)


def filesize(size: int | None) -> str:
    """`512 bytes`, `14.2 KiB`, `3.1 MiB`: what a person reads, in binary units like the
    upload limit."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} bytes"
    amount = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024 or unit == "GiB":
            return f"{amount:.1f} {unit}".replace(".0 ", " ")
    return f"{size} bytes"


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def duration(seconds: float | None) -> str:
    """`3 d 4 h`, `2 h 5 min`, `40 s`: the two largest units."""
    if seconds is None:
        return "—"
    left = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            count, left = divmod(left, size)
            parts.append(f"{count} {unit}")
        if len(parts) == 2:
            break
    return " ".join(parts)


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def prose(text: str | None) -> Markup:
    """Plain text as written: paragraphs and line breaks kept, links made clickable, nothing
    else interpreted (no HTML, no markup language)."""
    if not text:
        return Markup("")
    paragraphs = re.split(r"\n\s*\n", text.strip())
    html = []
    for paragraph in paragraphs:
        pieces = []
        last = 0
        for match in _URL.finditer(paragraph):
            pieces.append(escape(paragraph[last : match.start()]))
            url = match.group(0)
            pieces.append(Markup('<a href="{}" rel="noopener noreferrer nofollow">{}</a>')
                          .format(url, url))
            last = match.end()
        pieces.append(escape(paragraph[last:]))
        body = Markup("").join(pieces).replace("\n", Markup("<br>\n"))
        html.append(Markup("<p>{}</p>").format(body))
    return Markup("\n").join(html)


def initials(name: str) -> str:
    words = [w for w in re.split(r"\s+", name.strip()) if w]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def avatar_hue(text: Any) -> int:
    """One of twelve calm hues, the same for a person everywhere."""
    return int(hashlib.sha256(str(text).encode()).hexdigest()[:4], 16) % 12


def since(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    delta = (now or datetime.now(UTC)) - moment
    if delta < timedelta(minutes=1):
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(delta.total_seconds() // size)
        if count >= 1:
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def query(params: Mapping[str, Any], **changes: Any) -> str:
    """`params` with `changes` applied, as a query string (`?a=1&b=2`), empty values left out."""
    from urllib.parse import urlencode

    merged = {**params, **changes}
    pairs = []
    for key, value in merged.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, str(v)) for v in values if v not in (None, "")]
    return "?" + urlencode(pairs) if pairs else "?"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=static, qs=query, field_label=field_label)
    env.filters.update(
        label=label, when=when, day=day, duration=duration, prose=prose, initials=initials,
        hue=avatar_hue, since=since, iso=iso, filesize=filesize,
    )
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(context)
