"""How a page of the web app follows its ticket live: its session cookie opens the API's `/ws`.

Browsers cannot set a header on a WebSocket, and a page has no bearer token, so the upgrade's
cookie is the credential. The API's live streams ask this object (`api.live.credentials.
BrowserSessions`, handed over in the web router's `opt`) for the session a cookie holds, and
apply the same authority as to any stream: the account as it is now, a password changed since
signing in, and this session's own end (signing out). The rule for sessions stays here, in
`web.sessions`, and is not copied into the API.

A cookie is taken only from this site's own pages (`Origin`), so another site cannot open a
stream with a visitor's cookie. A stream opened with a cookie lasts at most `STREAM_LIFETIME`,
then the page opens another, which checks the session again: a sign-out elsewhere ends it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import NamedTuple
from uuid import UUID

from commands.errors import Unauthenticated
from web import csrf
from web.sessions import Session, Sessions, SessionsUnavailable
from web.visit import SESSION_COOKIE

STREAM_LIFETIME = timedelta(minutes=15)


class LiveSession(NamedTuple):
    """The shape of `api.live.credentials.BrowserSession`."""

    user_id: UUID
    signed_in: datetime
    expires_at: datetime
    still_held: Callable[[], None]


def live_sessions(sessions: Sessions, public_host: str | None
                  ) -> Callable[[Mapping[str, str]], LiveSession | None]:
    """The function the API's `/ws` asks for the session of an upgrade's headers (a function,
    not an object: Litestar deep-copies the router that carries it)."""

    def read(cookie: str) -> Session:
        try:
            session = sessions.read(cookie)
        except SessionsUnavailable:
            # Failing closed, as pages do: the page tries again shortly.
            raise Unauthenticated("sessions cannot be checked right now") from None
        if session is None:
            raise Unauthenticated("the session has ended: sign in again")
        return session

    def credential(headers: Mapping[str, str]) -> LiveSession | None:
        cookie = _session_cookie(headers.get("cookie", ""))
        if cookie is None:
            return None
        hosts = {headers.get("host", "").lower()}
        if public_host:
            hosts.add(public_host)
        origin = headers.get("origin")
        # Browsers always say where a WebSocket comes from; only this site's pages may use
        # the cookie.
        if origin is None or not csrf.same_origin(origin, None, hosts):
            raise Unauthenticated("a session cookie opens a stream only from Trail's own pages")
        session = read(cookie)

        def still_held() -> None:
            read(cookie)

        ends = min(datetime.fromtimestamp(session.expires_at, UTC),
                   datetime.now(UTC) + STREAM_LIFETIME)
        return LiveSession(session.user_id, session.signed_in, ends, still_held)

    return credential


def _session_cookie(header: str) -> str | None:
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None
