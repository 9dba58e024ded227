"""One POST to a checked URL: connected to the address that was checked, no redirects.

The request goes to the IP address the policy approved, with the URL's host in `Host` and, for
https, in the TLS server name, so the certificate is still verified against the host name. A
3xx answer is an answer like any other: never followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from outbound.addresses import AddressPolicy, AddressRefused, Target

# Bytes of an answer's body kept (in `last_error`) to tell an operator what went wrong.
ANSWER_EXCERPT = 200


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str


class CallFailed(Exception):
    """No answer: refused address, DNS failure, connection error or timeout."""


class Caller:
    def __init__(self, policy: AddressPolicy, timeout: float) -> None:
        self.policy = policy
        self._client = httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        try:
            target = self.policy.check(url)
        except AddressRefused as error:
            raise CallFailed(str(error)) from None
        request = self._client.build_request(
            "POST", _pinned(url, target), content=body, headers={**headers, "Host": _host(target)},
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
        try:
            response = self._client.send(request, stream=True)
            try:
                excerpt = _excerpt(response)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise CallFailed("timed out") from None
        except httpx.HTTPError as error:
            raise CallFailed(f"{type(error).__name__}: {error}") from None
        return Answer(response.status_code, excerpt)

    def close(self) -> None:
        self._client.close()


def _pinned(url: str, target: Target) -> httpx.URL:
    return httpx.URL(url).copy_with(host=str(target.addresses[0]))


def _host(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    name = f"[{target.host}]" if ":" in target.host else target.host
    return name if target.port == default else f"{name}:{target.port}"


def _excerpt(response: httpx.Response) -> str:
    """The start of the answer's body, read no further: a receiver may answer with anything."""
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= ANSWER_EXCERPT:
            break
    return kept[:ANSWER_EXCERPT].decode("utf-8", errors="replace").strip()
