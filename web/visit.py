"""One request of a browser: who it is (the session), its CSRF secret, the form it sent, the
position of its last write, and the cookies its answer must set.

`before_request` builds the visit for every page; handlers answer through `page`, `redirect`
and `respond`, which add the visit's cookies and the security headers. The same happens for
error pages (`web.errors`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from anyio import to_thread
from litestar import Request, Response
from litestar.datastructures import Cookie, FormMultiDict
from litestar.response import Redirect
from psycopg import Connection
from psycopg.rows import DictRow

from commands.errors import Unauthenticated
from commands.permissions import Actor
from projections.positions import Source, wait_for_position
from web import csrf
from web.render import render
from web.services import WebServices
from web.sessions import Session, Sessions, SessionsUnavailable, derived_key

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
}


class SignInRequired(Exception):
    """A page for signed-in people, asked for without a session."""


class CsrfRefused(Exception):
    """A change sent without this browser's token, or from another site."""


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


class Web:
    """The web app's state for the life of the process."""

    def __init__(self, services: WebServices) -> None:
        self.services = services
        settings = services.settings
        self.sessions = Sessions(
            settings.secret_key,
            services.redis,
            idle=settings.session_idle,
            absolute=settings.session_absolute,
            renew_after=settings.session_renew_after,
        )
        self.csrf_key = derived_key(settings.secret_key, "web-csrf")
        base = urlsplit(settings.base_url or "")
        self.always_secure = base.scheme == "https"
        self.public_host = base.netloc.lower() or None

    @property
    def commands(self) -> Any:
        return self.services.commands

    # ------------------------------------------------------------------ sessions

    def start_session(self, visit: Visit, user_id: Any) -> None:
        session = self.sessions.start(user_id)
        visit.session = session
        visit.set_cookie(SESSION_COOKIE, self.sessions.encode(session),
                         max_age=session.expires_at - session.issued_at)
        # A token seen before signing in must be worthless after.
        self._new_csrf(visit)

    def end_session(self, visit: Visit) -> None:
        if visit.session is not None:
            self.sessions.end(visit.session)
        visit.session = None
        visit.actor = None
        visit.delete_cookie(SESSION_COOKIE)
        self._new_csrf(visit)

    def _new_csrf(self, visit: Visit) -> None:
        visit.csrf_secret = csrf.new_secret()
        visit.set_cookie(CSRF_COOKIE, visit.csrf_secret)

    def csrf_token(self, visit: Visit) -> str:
        session_id = visit.session.session_id if visit.session else None
        return csrf.token(self.csrf_key, visit.csrf_secret, session_id)

    # ------------------------------------------------------------------ the request

    async def before_request(self, request: Request[Any, Any, Any]) -> None:
        secure = self.always_secure or request.url.scheme == "https"
        secret = request.cookies.get(CSRF_COOKIE) or ""
        visit = Visit(secure=secure, csrf_secret=secret)
        request.state.visit = visit
        if not secret:
            self._new_csrf(visit)
        try:
            await to_thread.run_sync(self._identify, visit, request.cookies.get(SESSION_COOKIE))
        except SessionsUnavailable:
            raise Unavailable("sessions cannot be checked right now") from None
        raw_position = request.cookies.get(POSITION_COOKIE, "")
        visit.position = int(raw_position) if raw_position.isdigit() else None
        if FLASH_COOKIE in request.cookies:
            visit.flash = request.cookies[FLASH_COOKIE][:200]
            visit.delete_cookie(FLASH_COOKIE)
        if request.method in UNSAFE_METHODS:
            await self._check_csrf(request, visit)

    def _identify(self, visit: Visit, cookie: str | None) -> None:
        session = self.sessions.read(cookie)
        if session is None:
            if cookie:
                visit.delete_cookie(SESSION_COOKIE)
            return
        try:
            visit.actor = self.services.commands.accounts.actor(
                session.user_id, session.signed_in, whole_seconds=False
            )
        except Unauthenticated:
            # Deactivated, waiting for approval again, or the password changed since.
            visit.delete_cookie(SESSION_COOKIE)
            return
        visit.session = session
        renewed = self.sessions.renewed(session)
        if renewed is not None:
            visit.session = renewed
            visit.set_cookie(SESSION_COOKIE, self.sessions.encode(renewed),
                             max_age=renewed.expires_at - renewed.issued_at)

    async def _check_csrf(self, request: Request[Any, Any, Any], visit: Visit) -> None:
        hosts = {request.headers.get("host", "").lower()}
        if self.public_host:
            hosts.add(self.public_host)
        if not csrf.same_origin(request.headers.get("origin"),
                                request.headers.get("sec-fetch-site"), hosts):
            raise CsrfRefused("the request comes from another site")
        presented = request.headers.get(csrf.HEADER)
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type in FORM_TYPES:
            visit.form = await request.form()
            presented = presented or _text(visit.form.get(csrf.FIELD))
        session_id = visit.session.session_id if visit.session else None
        if not csrf.valid(self.csrf_key, visit.csrf_secret, session_id, presented):
            raise CsrfRefused("the form's security token is missing or stale")

    # ------------------------------------------------------------------ reading

    @contextlib.contextmanager
    def reading(self, visit: Visit, names: tuple[str, ...]) -> Iterator[Connection[DictRow]]:
        """A connection to the read models `names`, once they show this browser's last write
        (waiting at most the same bound as the API's `Trail-Min-Position`)."""
        if visit.position:
            timeout = self.services.settings.min_position_timeout
            # `positions` names a pool of tuple-row connections but gives each cursor its own
            # row factory, so any pool serves (as in the API's `reads`).
            source = cast(Source, self.services.pool)
            if not wait_for_position(source, names, visit.position, timeout):
                raise Unavailable("the read models are catching up")
        with self.services.pool.connection() as conn:
            yield conn

    # ------------------------------------------------------------------ answers

    def page(
        self,
        request: Request[Any, Any, Any],
        template: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
    ) -> Response[str]:
        visit = visit_of(request)
        flash = _flash_text(visit.flash)
        html = render(template, {
            "me": visit.actor,
            "csrf_field": csrf.FIELD,
            "csrf_token": self.csrf_token(visit),
            "flash": flash,
            "path": request.url.path,
            "full_path": _full_path(request),
            "htmx": request.headers.get("hx-request") == "true",
            **context,
        })
        return self.respond(request, Response(html, status_code=status_code,
                                              media_type="text/html; charset=utf-8"))

    def redirect(self, request: Request[Any, Any, Any], path: str) -> Response[Any]:
        """303 See Other to `path` (on this site); htmx requests are told to navigate."""
        if request.headers.get("hx-request") == "true":
            response: Response[Any] = Response("", status_code=200, headers={"HX-Redirect": path})
        else:
            response = Redirect(path=path, status_code=303)
        return self.respond(request, response)

    def respond(self, request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
        visit = getattr(request.state, "visit", None)
        if visit is not None:
            for cookie in visit.cookies:
                response.cookies.append(cookie)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def visit_of(request: Request[Any, Any, Any]) -> Visit:
    visit: Visit = request.state.visit
    return visit


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _full_path(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _flash_text(flash: str | None) -> str | None:
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
