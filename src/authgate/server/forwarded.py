"""The client's address behind reverse proxies (``AUTHGATE_TRUSTED_PROXIES``).

The one place that decides who a request comes from: it rewrites the ASGI
scope's ``client`` before anything reads it, so rate limits, audit events,
sessions and the guard's credentials all see the same address. Only a peer in
the trusted list may speak for someone else; from any other peer
``X-Forwarded-For`` is ignored, so a client cannot pick the address its
requests are counted under. uvicorn's own proxy-header handling is switched
off (``cli/serve.py``): it trusts loopback peers by default, which would be a
second, unconfigured answer to the same question. (``X-Forwarded-Proto`` is
not read: every URL Authgate makes comes from ``AUTHGATE_PUBLIC_URL``.)
"""

from typing import Any

from authgate.util.addresses import Network, client_address

_FORWARDED_FOR = b"x-forwarded-for"


class ForwardedMiddleware:
    def __init__(self, app: Any, *, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        peer = scope.get("client")
        if scope["type"] == "http" and peer:
            headers: list[tuple[bytes, bytes]] = scope["headers"]
            forwarded = [v.decode("latin-1") for k, v in headers if k == _FORWARDED_FOR]
            address = client_address(peer[0], forwarded, self.trusted)
            if address != peer[0]:
                scope = dict(scope)
                scope["client"] = (address, 0)
        await self.app(scope, receive, send)
