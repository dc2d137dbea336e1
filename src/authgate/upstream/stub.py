"""A local stand-in for WorkOS's User Management API, for tests and offline
development: point ``AUTHGATE_WORKOS_API_BASE_URL`` at it.

It follows WorkOS's documented requests and responses field for field
(https://workos.com/docs/reference/authkit/authentication), for the calls
Authgate makes:

- ``GET /user_management/authorize`` (``client_id``, ``redirect_uri``,
  ``response_type=code``, ``provider=authkit``, ``state``, ``code_challenge``,
  ``code_challenge_method=S256``) shows a page with a button per configured
  user; choosing one redirects to ``redirect_uri`` with ``code`` and ``state``.
  Parameter errors redirect back with ``error`` and ``error_description``
  (and ``state``), as WorkOS does; an unknown client gets a 400 page.
- ``POST /user_management/authenticate`` (JSON or form) checks ``client_id``,
  ``client_secret`` (the API key), ``grant_type=authorization_code``, the
  ``code`` (single use, 10 minutes, issued to this client) and the PKCE
  ``code_verifier`` against the challenge, and answers ``{user,
  organization_id, access_token, refresh_token, authentication_method}``.
- ``GET /organizations/{id}`` with ``Authorization: Bearer <API key>``.

A plain ASGI application: no framework, so ``authgate.upstream`` stays free
of web frameworks.
"""

import base64
import hashlib
import html
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CODE_LIFETIME = 600.0


@dataclass(frozen=True, slots=True)
class StandInUser:
    """A WorkOS user object (``object: "user"``)."""

    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    email_verified: bool = True
    #: The organization the user signs in to, if any (``organization_id``).
    organization_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        now = _timestamp()
        return {
            "object": "user",
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email_verified": self.email_verified,
            "profile_picture_url": None,
            "last_sign_in_at": now,
            "created_at": now,
            "updated_at": now,
            "external_id": None,
            "metadata": {},
        }


@dataclass
class _Code:
    user: StandInUser
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    expires: float


@dataclass
class WorkOSStandIn:
    """The stand-in. ``authenticate_requests`` keeps every body POSTed to the
    authenticate endpoint, so tests can see what Authgate sent."""

    client_id: str
    api_key: str
    users: list[StandInUser] = field(default_factory=list)
    #: organization id → name
    organizations: dict[str, str] = field(default_factory=dict)
    authenticate_requests: list[dict[str, Any]] = field(
        default_factory=list, init=False, repr=False
    )
    _codes: dict[str, _Code] = field(default_factory=dict, init=False, repr=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        method, path = scope["method"], scope["path"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode()))
        if path == "/user_management/authorize" and method == "GET":
            await self._authorize_page(query, send)
        elif path == "/user_management/authorize" and method == "POST":
            await self._authorize_choice(await _form(scope, receive), send)
        elif path == "/user_management/authenticate" and method == "POST":
            await self._authenticate(await _form(scope, receive), send)
        elif path.startswith("/organizations/") and method == "GET":
            await self._organization(scope, path.removeprefix("/organizations/"), send)
        else:
            await _json(send, 404, {"message": "Not found"})

    # The authorize endpoint: GET shows the page, POST is a user's choice.

    async def _authorize_page(self, query: dict[str, str], send: Send) -> None:
        problem = self._check_authorize(query)
        if problem is not None:
            await problem(send)
            return
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(query.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "state", "code_challenge")
        )
        buttons = "".join(
            f'<button type="submit" name="user_id" value="{html.escape(u.id)}">'
            f"Continue as {html.escape(u.email)}</button>"
            for u in self.users
        )
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Sign in - WorkOS stand-in</title></head><body>"
            "<h1>Sign in</h1><p>WorkOS AuthKit stand-in: choose who you are.</p>"
            f'<form method="post" action="/user_management/authorize">{hidden}'
            f"{buttons}</form></body></html>"
        )
        await _respond(send, 200, "text/html; charset=utf-8", page.encode())

    def _check_authorize(
        self, query: dict[str, str]
    ) -> Callable[[Send], Awaitable[None]] | None:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return lambda send: _respond(
                send, 400, "text/plain", b"Invalid client_id or redirect_uri."
            )
        error = None
        if query.get("response_type") != "code":
            error = "The response_type must be 'code'."
        elif query.get("provider") != "authkit":
            error = "Specify a provider: this stand-in knows 'authkit'."
        elif query.get("code_challenge") and (
            query.get("code_challenge_method") != "S256"
        ):
            error = "The code_challenge_method must be 'S256'."
        if error is None:
            return None
        params = {"error": "invalid_request", "error_description": error}
        if query.get("state"):
            params["state"] = query["state"]
        return lambda send: _redirect(send, _with_query(redirect_uri, params))

    async def _authorize_choice(self, form: dict[str, str], send: Send) -> None:
        user = next((u for u in self.users if u.id == form.get("user_id")), None)
        if form.get("client_id") != self.client_id or user is None:
            await _respond(send, 400, "text/plain", b"Invalid sign-in.")
            return
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            user=user,
            client_id=self.client_id,
            redirect_uri=form.get("redirect_uri", ""),
            code_challenge=form.get("code_challenge") or None,
            expires=time.monotonic() + CODE_LIFETIME,
        )
        params = {"code": code}
        if form.get("state"):
            params["state"] = form["state"]
        await _redirect(send, _with_query(form.get("redirect_uri", ""), params))

    # The authenticate endpoint.

    async def _authenticate(self, body: dict[str, str], send: Send) -> None:
        self.authenticate_requests.append(dict(body))
        if body.get("client_id") != self.client_id:
            await _error(send, 400, "invalid_client", "Invalid client ID.")
            return
        if not secrets.compare_digest(
            str(body.get("client_secret", "")).encode(), self.api_key.encode()
        ):
            await _error(send, 401, "invalid_client", "Invalid client secret.")
            return
        if body.get("grant_type") != "authorization_code":
            await _error(send, 400, "unsupported_grant_type", "Unsupported grant_type.")
            return
        code = self._codes.pop(str(body.get("code", "")), None)
        if (
            code is None
            or code.expires < time.monotonic()
            or code.client_id != body.get("client_id")
        ):
            await _error(
                send,
                400,
                "invalid_grant",
                f"The code '{body.get('code', '')}' has expired or is invalid.",
            )
            return
        if code.code_challenge is not None and not _pkce_ok(
            str(body.get("code_verifier", "")), code.code_challenge
        ):
            await _error(send, 400, "invalid_grant", "Invalid code_verifier.")
            return
        answer: dict[str, Any] = {
            "user": code.user.as_json(),
            "access_token": _access_token(code.user),
            "refresh_token": secrets.token_urlsafe(24),
            "authentication_method": "Password",
        }
        if code.user.organization_id:
            answer["organization_id"] = code.user.organization_id
        await _json(send, 200, answer)

    # The organization endpoint.

    async def _organization(self, scope: Scope, org_id: str, send: Send) -> None:
        headers = dict(scope["headers"])
        if not secrets.compare_digest(
            headers.get(b"authorization", b""), f"Bearer {self.api_key}".encode()
        ):
            await _json(send, 401, {"message": "Unauthorized"})
            return
        name = self.organizations.get(org_id)
        if name is None:
            await _json(send, 404, {"message": f"Organization not found: '{org_id}'."})
            return
        now = _timestamp()
        await _json(
            send,
            200,
            {
                "object": "organization",
                "id": org_id,
                "name": name,
                "allow_profiles_outside_organization": False,
                "domains": [],
                "created_at": now,
                "updated_at": now,
            },
        )


def _pkce_ok(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return bool(verifier) and secrets.compare_digest(
        computed.encode(), challenge.encode()
    )


def _access_token(user: StandInUser) -> str:
    """JWT-shaped like WorkOS's (header.payload.signature); not verifiable."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": user.id, "sid": f"session_{secrets.token_hex(8)}", "iat": now}
    claims["exp"] = now + 300
    if user.organization_id:
        claims["org_id"] = user.organization_id
    signature = secrets.token_urlsafe(32)
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{signature}"


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


async def _form(scope: Scope, receive: Receive) -> dict[str, str]:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks).decode()
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body or "{}")
        except ValueError:
            return {}
        return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(body))


async def _respond(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    await _respond(send, status, "application/json", json.dumps(body).encode())


async def _error(send: Send, status: int, error: str, description: str) -> None:
    await _json(send, status, {"error": error, "error_description": description})


async def _redirect(send: Send, location: str) -> None:
    await _respond(send, 302, "text/plain", b"", [(b"location", location.encode())])


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
