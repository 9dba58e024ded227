"""One request of a browser: who it is (the session), its CSRF secret, the form it sent, the
position of its last write, and the cookies its answer must set.

`web.site.Web.before_request` builds the visit for every page; the cookies it names and the
messages a page may flash are here, so every module reads them from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie, FormMultiDict

from commands.permissions import Actor
from web.sessions import Session

SESSION_COOKIE = "trail_session"
CSRF_COOKIE = "trail_csrf"
# The position of this browser's last write: pages that read the read models wait for it, so
# a page after a change shows the change (the API's `Trail-Min-Position`, kept in a cookie).
POSITION_COOKIE = "trail_position"
FLASH_COOKIE = "trail_flash"
POSITION_LIFETIME = 120

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# What a page may load and where it may send things: only this server.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages hold one person's view of private data: never kept in a shared or back-button cache.
    "Cache-Control": "no-store",
}

FLASHES = {
    "signed-out": "You are signed out.",
    "created": "Ticket {} created.",
    "saved": "Changes saved.",
    "commented": "Comment added.",
    "comment-saved": "Comment updated.",
    "password-changed": "Your password is changed. Sign in with the new one.",
    "user-saved": "User updated.",
    "project-created": "Project created.",
    "project-saved": "Project saved.",
    "project-archived": "Project archived.",
    "email-retried": "The email is queued to be sent again.",
    "profile-saved": "Your profile is saved.",
    "watching": "You are watching this ticket.",
    "unwatching": "You no longer watch this ticket.",
    "linked": "Link added.",
    "unlinked": "Link removed.",
    "attached": "File attached.",
    "detached": "Attachment removed.",
    "message-posted": "Message sent.",
    "marked-read": "Marked read.",
    "token-revoked": "Token revoked: it no longer works.",
    "team-created": "Team created.",
    "team-saved": "Team saved.",
    "members-saved": "Members saved.",
    "webhook-deleted": "Webhook deleted.",
    "webhook-saved": "Webhook saved.",
    "delivery-retried": "The delivery will be attempted again now.",
    "all-read": "All notifications marked read.",
}


class SignInRequired(Exception):
    """A page for signed-in people, asked for without a session."""


class CsrfRefused(Exception):
    """A change sent without this browser's token, or from another site."""


class UploadTooLarge(Exception):
    """A file larger than an upload may be, refused before its body is read."""


class Unavailable(Exception):
    """Something Trail needs does not answer in time (Redis, the read models)."""


@dataclass
class Visit:
    secure: bool
    csrf_secret: str
    session: Session | None = None
    actor: Actor | None = None
    form: FormMultiDict | None = None
    position: int | None = None
    flash: str | None = None
    cookies: list[Cookie] = field(default_factory=list)

    def set_cookie(self, name: str, value: str, *, max_age: int | None = None,
                   http_only: bool = True) -> None:
        self.cookies = [c for c in self.cookies if c.key != name]
        self.cookies.append(Cookie(key=name, value=value, max_age=max_age, path="/",
                                   httponly=http_only, samesite="lax", secure=self.secure))

    def delete_cookie(self, name: str) -> None:
        self.set_cookie(name, "", max_age=0)

    def wrote(self, position: int) -> None:
        """Remember a write, so the next pages read it back."""
        self.position = max(self.position or 0, position)
        self.set_cookie(POSITION_COOKIE, str(self.position), max_age=POSITION_LIFETIME)

    def say(self, flash: str, *args: str) -> None:
        self.set_cookie(FLASH_COOKIE, ":".join([flash, *args]), max_age=60)


def visit_of(request: Request[Any, Any, Any]) -> Visit:
    visit: Visit = request.state.visit
    return visit


def full_path(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def flash_text(flash: str | None) -> str | None:
    """Only messages Trail itself says: a cookie cannot make a page show arbitrary text."""
    if not flash:
        return None
    code, *args = flash.split(":")
    template = FLASHES.get(code)
    if template is None:
        return None
    try:
        return template.format(*args)
    except IndexError:
        return None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
