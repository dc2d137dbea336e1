"""Who a request comes from: the client's address behind trusted proxies, and
the key a rate limit counts it under.

Pure functions, so the rules are tested without a server: the middleware in
``server/forwarded.py`` applies :func:`client_address` once per request and every
reader of the address (rate limits, audit, sessions) sees its answer.
"""

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: One IPv6 subscriber usually gets a whole /64: keying on the full address
#: would hand an attacker 2**64 fresh budgets.
IPV6_LIMIT_PREFIX = 64


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and CIDR blocks (``10.0.0.0/8``, ``::1``); ``ValueError`` on a
    malformed entry, so a typo stops the server instead of trusting nothing."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]" or "[::1]:443"
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy;
    then the right-most ``X-Forwarded-For`` entry that is not a trusted proxy.

    Entries left of an untrusted one were written by whoever sent the request
    and prove nothing, so they are never read. ``forwarded_for`` is every
    ``X-Forwarded-For`` header in arrival order. An entry that is not an
    address stops the walk at the proxy that wrote it."""
    if peer is None:
        return None
    current = _address(peer)
    if current is None or not _trusted(current, trusted):
        return peer
    entries = [part for header in forwarded_for for part in header.split(",")]
    for entry in reversed(entries):
        hop = _address(entry)
        if hop is None:
            break
        current = hop
        if not _trusted(hop, trusted):
            break
    return str(current)


def limit_key(address: str | None) -> str:
    """What a per-address limit counts under: an IPv4 address itself, an IPv6
    address's /64 (an IPv4-mapped one as IPv4), ``unknown`` without one."""
    parsed = _address(address) if address else None
    if parsed is None:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((parsed, IPV6_LIMIT_PREFIX), strict=False)
        return str(network)
    return str(parsed)
