"""The web app's state for the life of the process, and what every request goes through:
`before_request` builds the visit (session, CSRF check, last write, flash); handlers answer
through `page`, `redirect` and `respond`, which add the visit's cookies and the security
headers. Error pages (`web.errors`) answer the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from anyio import to_thread
from litestar import MediaType, Request, Response
from litestar.response import Redirect
from psycopg import Connection
from psycopg.rows import DictRow

from commands.errors import Unauthenticated
from projections import notifications
from projections.positions import Source, wait_for_position
from web import csrf
from web.render import render
from web.services import WebServices
from web.sessions import Sessions, SessionsUnavailable, derived_key
from web.visit import (
    CSRF_COOKIE,
    FLASH_COOKIE,
    FORM_TYPES,
    POSITION_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    CsrfRefused,
    Unavailable,
    UploadTooLarge,
    Visit,
    flash_text,
    full_path,
    visit_of,
)

MIN_POSITION_HEADER = "trail-min-position"
# What the unread count in every page's header reads.
UNREAD_READS = (notifications.NotificationsProjection.name, "tickets")
# The form fields and multipart framing around an uploaded file.
UPLOAD_FORM_SLACK = 64 * 1024


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
            namespace=settings.redis_namespace,
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
        # A page refreshing itself for a live event asks for the read models to show it too
        # (the API's header; the wait is bounded the same way).
        asked = request.headers.get(MIN_POSITION_HEADER, "")
        if asked.isdigit() and len(asked) < 20:
            visit.position = max(visit.position or 0, int(asked))
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
            self._bound_upload(request)
            visit.form = await request.form()
            presented = presented or _text(visit.form.get(csrf.FIELD))
        session_id = visit.session.session_id if visit.session else None
        if not csrf.valid(self.csrf_key, visit.csrf_secret, session_id, presented):
            raise CsrfRefused("the form's security token is missing or stale")

    def _bound_upload(self, request: Request[Any, Any, Any]) -> None:
        """An upload form's body may be as large as a file may be (and a little more for the
        form around it), and no larger: refused from its length before a byte is read. Its
        handler sets no body limit of its own, since the file limit is a setting."""
        if not request.route_handler.opt.get("upload"):
            return
        storage = self.services.commands.attachments.storage
        limit = (storage.max_bytes if storage else 0) + UPLOAD_FORM_SLACK
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > limit:
            raise UploadTooLarge(
                f"A file may be at most {(limit - UPLOAD_FORM_SLACK) / 2**20:g} MiB.")

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
        flash = flash_text(visit.flash)
        html = render(template, {
            "me": visit.actor,
            # Error pages leave it out: they may be answering for a database that is away.
            "unread": self._unread(visit) if status_code < 400 else None,
            "csrf_field": csrf.FIELD,
            "csrf_token": self.csrf_token(visit),
            "flash": flash,
            "path": request.url.path,
            "full_path": full_path(request),
            "htmx": request.headers.get("hx-request") == "true",
            **context,
        })
        return self.respond(request, Response(html, status_code=status_code,
                                              media_type=MediaType.HTML))

    def _unread(self, visit: Visit) -> int | None:
        """The header's count of unread notifications (None: not known right now)."""
        if visit.actor is None:
            return None
        try:
            with self.reading(visit, UNREAD_READS) as conn:
                return notifications.unread_count(conn, visit.actor)
        except Unavailable:
            return None

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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
