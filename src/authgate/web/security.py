"""Browser-facing defences: cookie attributes, CSRF, security headers, body size.

CSRF (OWASP ASVS 4.2.2): an unsafe request authenticated by the session cookie
must come from our own origin (``Origin``, else ``Referer``) and carry the
CSRF token, an HMAC of the session token under a key derived from the server
secret, so it needs no storage and dies with the session.
"""

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Request, Response

from authgate.config import Settings
from authgate.errors import Forbidden

SESSION_COOKIE = "ag_session"
REFRESH_COOKIE = "ag_refresh"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: RFC 6265bis cookie name prefixes: a browser keeps a cookie so named only
#: if it is Secure, has ``Path=/`` and no ``Domain``, so no sibling or parent
#: domain (and no plain-http page) can plant one: no session fixation, and no
#: cookie whose value an attacker knows for a form token to be bound to.
HOST_PREFIX = "__Host-"


def cookie_name(settings: Settings, name: str) -> str:
    """The name a cookie goes by: ``__Host-`` first when cookies are Secure
    (an https public URL); the plain name on http, where browsers refuse it."""
    return HOST_PREFIX + name if settings.secure_cookies else name


def read_cookie(request: Request, settings: Settings, name: str) -> str | None:
    """Only the name :func:`cookie_name` gives: on https a plain-named cookie
    (which anyone on a sibling domain can set) is not read."""
    return request.cookies.get(cookie_name(settings, name))


def set_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int,
    httponly: bool,
    samesite: Literal["lax", "strict"],
    path: str = "/",
) -> None:
    """``path`` scopes the cookie on http only: ``__Host-`` needs ``Path=/``."""
    response.set_cookie(
        cookie_name(settings, name),
        value,
        max_age=max_age,
        httponly=httponly,
        samesite=samesite,
        secure=settings.secure_cookies,
        path="/" if settings.secure_cookies else path,
    )


def delete_cookie(
    response: Response, settings: Settings, name: str, *, path: str = "/"
) -> None:
    response.delete_cookie(
        cookie_name(settings, name),
        path="/" if settings.secure_cookies else path,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def csrf_token(key: bytes, session_token: str) -> str:
    digest = hmac.new(key, session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _matches(presented: str, expected: str) -> bool:
    """Constant-time equality of text as bytes: ``compare_digest`` refuses a
    ``str`` with non-ASCII characters (a header such as ``é``) with a
    ``TypeError``, which would be a 500 instead of a refusal."""
    return secrets.compare_digest(
        presented.encode("utf-8", "surrogatepass"),
        expected.encode("utf-8", "surrogatepass"),
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request, settings: Settings) -> bool:
    """The request comes from one of our pages (``Origin``, else ``Referer``)."""
    allowed = {_origin(settings.issuer), _origin(str(request.base_url))}
    source = request.headers.get("origin") or request.headers.get("referer")
    return bool(source) and _origin(source or "") in allowed


def _csrf_matches(presented: str, keys: Sequence[bytes], bound_to: str) -> bool:
    """``presented`` is the token of ``bound_to`` under one of ``keys`` (the
    current secret's, or during a rotation the previous one's, so the
    ``ag_csrf`` cookie of a session opened before it keeps working)."""
    return any(_matches(presented, csrf_token(key, bound_to)) for key in keys)


def check_csrf(request: Request, keys: Sequence[bytes], settings: Settings) -> None:
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request, settings):
        raise Forbidden("Cross-site request refused (origin check).")
    session_token = read_cookie(request, settings, SESSION_COOKIE) or ""
    presented = request.headers.get(CSRF_HEADER, "")
    if not presented or not _csrf_matches(presented, keys, session_token):
        raise Forbidden("Missing or wrong CSRF token.")


def check_form(
    request: Request,
    keys: Sequence[bytes],
    settings: Settings,
    *,
    presented: str,
    bound_to: str,
) -> None:
    """A page's form post: same origin, and its hidden token is the HMAC of
    ``bound_to`` (the session token, or before sign-in the login nonce
    cookie), so a cross-site page can neither forge nor replay it."""
    if not same_origin(request, settings):
        raise Forbidden("Cross-site request refused (origin check).")
    if not bound_to or not _csrf_matches(presented, keys, bound_to):
        raise Forbidden("The form has expired or was not sent from this site.")


#: Added to every response that does not set its own.
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
#: Added besides, under the paths whose answers may carry a token.
_NO_STORE = (*_HEADERS, (b"cache-control", b"no-store"))
_TOKEN_PATHS = ("/api/", "/oauth/", "/bo/")


class SecurityMiddleware:
    """Security headers on every response, ``no-store`` on anything that may
    carry a token, a hard limit on request body size (413), and no NUL in the
    URL (400).

    Only requests whose ``Host`` names one of ``hosts`` (any port) get
    through, 421 otherwise. A site whose name an attacker points at this
    server (DNS rebinding) is the same origin as its own pages, so the
    browser lets its script read the answers and post with cookies set for
    that name; its requests carry its own name in ``Host``. On loopback that
    reaches dev login, ``/metrics`` and, in single-user mode, everything.
    """

    def __init__(self, app: Any, *, max_body_bytes: int, hosts: frozenset[str]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.hosts = frozenset(name.encode("idna") for name in hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        request_headers = dict(scope["headers"])
        if _host_name(request_headers.get(b"host", b"")) not in self.hosts:
            await _refuse(send, 421, "misdirected_request", "Unknown host name.")
            return
        if b"%00" in scope.get("raw_path", b"") or b"%00" in scope.get(
            "query_string", b""
        ):
            # No database can hold NUL in text: refused here, for every route.
            await _refuse(
                send, 400, "invalid_request", "NUL characters are not allowed."
            )
            return
        length = request_headers.get(b"content-length")
        if length is not None and (
            not length.isdigit() or int(length) > self.max_body_bytes
        ):
            await _too_large(send)
            return
        defaults = _NO_STORE if path.startswith(_TOKEN_PATHS) else _HEADERS
        seen = 0
        started = exceeded = False

        async def limited_receive() -> Any:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def send_with_headers(message: Any) -> None:
            nonlocal started
            if exceeded:
                # Whatever the app made of the aborted body, the answer is 413.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _too_large(send)
                return
            if message["type"] == "http.response.start":
                started = True
                headers = message.get("headers", ())
                names = {name.lower() for name, _ in headers}
                added = [h for h in defaults if h[0] not in names]
                message = {**message, "headers": [*headers, *added]}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                await _too_large(send)


class _BodyTooLarge(Exception):
    pass


def _host_name(host: bytes) -> bytes:
    """The name in a ``Host`` header, without port, IPv6 brackets or trailing
    dot, in lower case: bytes operations only, as it runs on every request."""
    bracketed = host.startswith(b"[")
    name = host[1 : host.find(b"]")] if bracketed else host.partition(b":")[0]
    return name.rstrip(b".").lower()


async def _too_large(send: Any) -> None:
    await _refuse(send, 413, "payload_too_large", "The request body is too large.")


async def _refuse(send: Any, status: int, error: str, description: str) -> None:
    body = json.dumps({"error": error, "error_description": description}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
