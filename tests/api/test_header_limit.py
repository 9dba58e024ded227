"""A request's head is bounded: past 16 KiB of request line and headers, 431 and the
connection closes, whether the head arrives whole or never ends."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

from runtime.http_limits import MAX_HEAD_BYTES


def _raw(api_url: str, head: bytes) -> bytes:
    parts = urlsplit(api_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_headers_past_the_bound_are_431(api_url: str) -> None:
    big = "x" * (MAX_HEAD_BYTES + 1)
    response = httpx.get(f"{api_url}/health", headers={"X-Padding": big}, timeout=10)
    assert response.status_code == 431
    many = {f"X-Pad-{n}": "y" * 100 for n in range(MAX_HEAD_BYTES // 100)}
    assert httpx.get(f"{api_url}/health", headers=many, timeout=10).status_code == 431
    # Within the bound, all is well.
    fine = httpx.get(f"{api_url}/health", headers={"X-Padding": "x" * 8_000}, timeout=10)
    assert fine.status_code == 200


def test_a_header_that_never_ends_is_cut_off(api_url: str) -> None:
    # One header past the bound and no end of the head: refused without waiting for the end
    # (the parser never hands over a header it has not seen end).
    answer = _raw(api_url, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Endless: "
                  + b"z" * (MAX_HEAD_BYTES + 1024))
    assert answer.startswith(b"HTTP/1.1 431 ")
