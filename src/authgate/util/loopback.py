"""Whether a request comes from this machine: what dev login and the
token-less ``/metrics`` both ask before answering."""

import ipaddress
from collections.abc import Mapping

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
