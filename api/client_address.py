"""The caller's address: the TCP peer, or X-Forwarded-For only when a trusted proxy sent it.

With no trusted proxies (the default) the header is ignored, so a client cannot choose
the address that its audit entries record and its failure limits count against. When
the direct peer is a trusted proxy, the client is the right-most X-Forwarded-For entry
that is not itself a trusted proxy: entries to its left were written by the client (or
by proxies we do not know) and prove nothing.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import Any

from litestar.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse `EXPERI_TRUSTED_PROXIES` entries (IPs or CIDRs); a bad entry is an error."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def parse_ip(raw: str) -> IPAddress | None:
    """An address as proxies write it: bare, `v4:port`, `[v6]` or `[v6]:port`."""
    text = raw.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 address carried in IPv6 (from a dual-stack socket) is that IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve(peer: str | None, forwarded: list[str], networks: tuple[IPNetwork, ...]) -> str:
    """The client address given the peer, the X-Forwarded-For values and trusted networks."""
    if not peer:
        return UNKNOWN
    peer_ip = parse_ip(peer)
    if not networks or not is_trusted(peer_ip, networks):
        return str(peer_ip) if peer_ip is not None else peer
    hops = [item for value in forwarded for item in value.split(",") if item.strip()]
    closest_trusted = str(peer_ip)
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            break  # a trusted proxy passed on garbage: stop at the last hop we trust
        if not is_trusted(address, networks):
            return str(address)
        closest_trusted = str(address)
    return closest_trusted


def client_address(scope: Scope | Any) -> str:
    """The request's client address by the rule above, worked out once per request."""
    known = scope.get("experi_client_address")
    if known is not None:
        return str(known)
    client = scope.get("client")
    peer = str(client[0]) if client else None
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
    ]
    networks: tuple[IPNetwork, ...] = ()
    if forwarded:
        settings = scope["litestar_app"].state.services.settings
        networks = trusted_networks(settings.trusted_proxies)
    address = resolve(peer, forwarded, networks)
    scope["experi_client_address"] = address  # type: ignore[typeddict-unknown-key]
    return address


def audit_address(scope: Scope | Any) -> str | None:
    """The client address as events record it (None when the server could not tell)."""
    address = client_address(scope)
    return None if address == UNKNOWN else address
