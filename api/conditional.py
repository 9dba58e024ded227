"""GET answers' `ETag` and `304 Not Modified`, and `Link: <…>; rel="next"` beside every list's
`next_cursor`.

A JSON 200 answer to a GET is held until it is complete. Its `ETag` is the one the handler set
(a ticket's `"<version>"`) or else a digest of the body, so any representation can be revalidated;
an `If-None-Match` naming it (weakly compared, `*` included) is answered 304 without a body.
A list's `next_cursor` becomes a `Link` to the same request with `cursor` set, relative to the
request's own URL (RFC 8288), so it never trusts a `Host` header. Streams (SSE) and downloads (an
attachment that is JSON, sent with `Content-Disposition`) pass through.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar.types import ASGIApp

_JSON = (b"application/json", b"application/problem+json")


class _Listed(msgspec.Struct):
    next_cursor: str | None = None


_listed = msgspec.json.Decoder(_Listed)


class ConditionalGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def held(message: Any) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if (message["status"] == 200 and _content_type(message).startswith(_JSON)
                        and not _is_download(message)):
                    start = dict(message)
                    return
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _answer(scope, start, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, held)


async def _answer(scope: Any, start: dict[str, Any], body: bytes, send: Any) -> None:
    headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
    etag = next((v for k, v in headers if k.lower() == b"etag"), None)
    if etag is None:
        etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
        headers.append((b"etag", etag))
    link = _next_link(scope, body)
    if link is not None:
        headers.append((b"link", link))
    if _matches(_request_header(scope, b"if-none-match"), etag):
        kept = {b"etag", b"cache-control", b"link", b"vary", b"trail-position"}
        await send({"type": "http.response.start", "status": 304,
                    "headers": [(k, v) for k, v in headers if k.lower() in kept]})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _next_link(scope: Any, body: bytes) -> bytes | None:
    if b'"next_cursor"' not in body:
        return None
    try:
        cursor = _listed.decode(body).next_cursor
    except msgspec.ValidationError:
        return None
    if cursor is None:
        return None
    query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                          keep_blank_values=True) if k != "cursor"]
    query.append(("cursor", cursor))
    return f'<{scope["path"]}?{urlencode(query)}>; rel="next"'.encode("latin-1")


def _matches(if_none_match: bytes | None, etag: bytes) -> bool:
    if if_none_match is None:
        return False
    wanted = etag.removeprefix(b"W/")
    for tag in if_none_match.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/") == wanted:
            return True
    return False


def _is_download(message: Any) -> bool:
    """A file served as it is stored (an attachment that is JSON): streamed, never held."""
    return any(name.lower() == b"content-disposition" for name, _ in message.get("headers", []))


def _content_type(message: Any) -> bytes:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).lower()
    return b""


def _request_header(scope: Any, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None
