"""Cross-site request forgery: every form and every htmx request that changes something carries
a token that a page of another site cannot know.

Each browser gets a random `trail_csrf` cookie (HttpOnly, SameSite=Lax). A token is the HMAC of
that cookie and of the session's id (empty before signing in) under a key derived from the
deployment's secret: a page renders it into its forms (`_csrf`) and into the `X-CSRF-Token`
header htmx sends. A request that changes something is refused unless it carries the token of
its own cookie and session, so neither a forged form nor a cookie planted by a sibling domain
(whose token would belong to another session) gets through. Browsers that say where a request
comes from (`Origin`, `Sec-Fetch-Site`) are also refused when it is another site.

The cookie is renewed at signing in and out, so a token seen before signing in is worthless after.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Collection
from urllib.parse import urlsplit

FIELD = "_csrf"
HEADER = "x-csrf-token"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def token(key: bytes, secret: str, session_id: str | None) -> str:
    digest = hmac.new(key, f"{secret}|{session_id or ''}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def valid(key: bytes, secret: str | None, session_id: str | None, presented: str | None) -> bool:
    if not secret or not presented:
        return False
    return hmac.compare_digest(token(key, secret, session_id), presented)


def same_origin(origin: str | None, fetch_site: str | None, own_hosts: Collection[str]) -> bool:
    """False when the browser says the request comes from another site (`own_hosts` are this
    server's `host[:port]` as browsers reach it). Browsers that say nothing are judged by the
    token alone. Only the host is compared: behind a TLS proxy the scheme seen here differs."""
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc.lower() in own_hosts
