"""Which addresses Trail may call: a guard against server-side request forgery.

A URL is refused when it is not http(s), or when its host resolves to any address that is not
global: private (10/8, 192.168/16, fc00::/7…), loopback, link-local (169.254/16, where cloud
metadata services answer), shared, reserved, multicast or unspecified. IPv4 addresses mapped or
translated into IPv6 are judged as the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# getaddrinfo's shape, so tests and callers can bring their own resolver.
Resolver = Callable[..., Sequence[tuple[object, object, object, object, tuple[object, ...]]]]


class AddressRefused(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to."""


@dataclass(frozen=True)
class Target:
    """A URL checked for calling: its parts, and the addresses its host resolved to."""

    scheme: str
    host: str
    port: int
    addresses: tuple[Address, ...]


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is not None:
            return is_public(carried)
    return address.is_global and not (address.is_multicast or address.is_unspecified)


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    resolve: Resolver = field(default=socket.getaddrinfo)

    def check(self, url: str) -> Target:
        """The URL's target, every address checked; AddressRefused otherwise."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise AddressRefused("is not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AddressRefused("must be an http:// or https:// URL with a host")
        port = port or (443 if parts.scheme == "https" else 80)
        addresses = self._addresses(parts.hostname, port)
        if not self.allow_private:
            refused = [a for a in addresses if not is_public(a)]
            if refused:
                raise AddressRefused(
                    f"{parts.hostname} resolves to {refused[0]}, which is not a public address"
                )
        return Target(parts.scheme, parts.hostname, port, addresses)

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be called, or None when it may."""
        try:
            self.check(url)
        except AddressRefused as error:
            return str(error)
        return None

    def _addresses(self, host: str, port: int) -> tuple[Address, ...]:
        try:
            infos = self.resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise AddressRefused(f"{host} does not resolve ({error})") from None
        found: dict[Address, None] = {}
        for info in infos:
            # The scope of a link-local IPv6 address ("fe80::1%eth0") is not part of it.
            text = str(info[4][0]).split("%", 1)[0]
            found[ipaddress.ip_address(text)] = None
        if not found:
            raise AddressRefused(f"{host} does not resolve")
        return tuple(found)
