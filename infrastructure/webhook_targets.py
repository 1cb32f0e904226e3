"""Where webhooks may go: never to loopback, private, link-local, metadata or other
internal addresses (SSRF), unless the operator allows private addresses.

Literal IP hosts are refused when an endpoint is saved; every delivery resolves the
name again, checks every address it resolves to, and connects to a checked address
(the sender pins it), so a name that rebinds between check and connect gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP addresses as text

CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(Exception):
    """A delivery that may not be attempted: the message says why (no secret in it)."""


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def literal_address(host: str) -> Address | None:
    """The address a host names literally, including the legacy IPv4 forms a resolver
    accepts (`2130706433`, `0x7f.1`, `127.1`); None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def refusal(address: Address) -> str | None:
    """Which kind of internal address this is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            inner = refusal(embedded)
            if inner:
                return inner
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in CGNAT, "shared (CGNAT)"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "non-public"),
    )
    return next((reason for hit, reason in checks if hit), None)


class TargetPolicy:
    """The address checks, with the operator's exception for private addresses."""

    def __init__(self, allow_private: bool = False, resolve: Resolver = system_resolve) -> None:
        self.allow_private = allow_private
        self._resolve = resolve

    def url_problem(self, url: str) -> str | None:
        """The AddressPolicy port: a refused IP literal, caught before any delivery."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return None  # the URL's own checks report it
        address = literal_address(host)
        reason = None if address is None or self.allow_private else refusal(address)
        return f"Must not point to a {reason} address ({address})" if reason else None

    def addresses(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to, all of them allowed, or Refused."""
        literal = literal_address(host)
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                found = self._resolve(host, port)
            except (OSError, UnicodeError) as error:
                raise Refused(f"Could not resolve {host}: {error}") from None
        if not found:
            raise Refused(f"Could not resolve {host}")
        if not self.allow_private:
            for text in found:
                address = ipaddress.ip_address(text.split("%", 1)[0])
                reason = refusal(address)
                if reason:
                    raise Refused(f"Refused: {host} resolves to {address}, a {reason} address")
        return found
