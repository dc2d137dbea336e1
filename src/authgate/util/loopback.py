"""This machine, in one place: the names a loopback server answers to, whether
a host is one of them, and whether a request comes from here (what dev login
and the token-less ``/metrics`` ask before answering)."""

import ipaddress
from collections.abc import Mapping

#: The loopback names that need no DNS (IPv6 without brackets): what a browser
#: on this machine calls a server bound to loopback, and the only hosts a
#: native app's loopback redirect may use (RFC 8252 §7.3).
NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

#: Headers a proxy adds; their presence means the peer address is the proxy's.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def local_request(peer: str | None, headers: Mapping[str, str]) -> bool:
    """The peer is a loopback address and no proxy relayed the request (a
    reverse proxy on the same machine would make every visitor look local)."""
    if peer is None or any(name in headers for name in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def is_loopback(host: str | None) -> bool:
    """``localhost`` or any loopback address, IPv6 with or without brackets."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
