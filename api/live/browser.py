"""The web app's sessions as the live streams see them: a function that finds the session an
upgrade's cookie holds, handed over by the mounted web router (`opt`). Apart from
`credentials`, so that the API's context can name it without importing the streams."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

# The key under which a mounted router's `opt` carries its `BrowserSessions` (the web app's).
BROWSER_SESSIONS = "browser_sessions"


class BrowserSession(NamedTuple):
    user_id: UUID
    signed_in: datetime
    expires_at: datetime
    still_held: Callable[[], None]


# The session an upgrade's cookie holds (from its headers); None without a session cookie,
# Unauthenticated when the cookie does not work now or comes from another site. A plain
# function: Litestar deep-copies the routers that carry it, and a function is never copied.
BrowserSessions = Callable[[Mapping[str, str]], BrowserSession | None]
