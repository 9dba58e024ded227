"""uvicorn's httptools protocol with a bound on a request's head (request line and headers).

uvicorn sets no such bound with httptools, which gathers a header however long it grows: one
client could make a process hold megabytes per connection before any handler runs. Past
`MAX_HEAD_BYTES` the request is answered 431 and the connection closed, as Node.js does at
the same size. `trail api` runs uvicorn with it (`http=PROTOCOL`).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 16 * 1024
PROTOCOL = "runtime.http_limits:BoundedHttpToolsProtocol"

_DETAIL = b"the request's headers are too large\n"
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(_DETAIL)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _DETAIL
)


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop the parser at once."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the head twice over: what the parser hands over (a head that arrives whole in
    one read), and the bytes read while a head is still incomplete (a header that never
    ends, which the parser would gather without handing anything over)."""

    _head_bytes = 0
    _unfinished_bytes = 0
    _in_head = False
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._refused:
            return
        if self._in_head:
            self._unfinished_bytes += len(data)
            if self._unfinished_bytes > MAX_HEAD_BYTES:
                self._refuse()

    def send_400_response(self, msg: str) -> None:
        # The parser reports a callback's exception as a malformed request: ours is a 431.
        if self._refused:
            self._refuse()
        else:
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._unfinished_bytes = 0
        self._in_head = True

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refused = True
            raise HeadTooLarge

    def _refuse(self) -> None:
        self._refused = True
        if not self.transport.is_closing():
            self.transport.write(_TOO_LARGE)
            self.transport.close()


__all__ = ["MAX_HEAD_BYTES", "PROTOCOL", "BoundedHttpToolsProtocol"]
