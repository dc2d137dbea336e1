"""Driving the authorization server the way a client and a person would.

- :func:`discover` reads the RFC 8414 metadata: suites learn endpoints only
  from it.
- :class:`Browser` is the person: an httpx client holding the session cookie,
  which opens the authorization URL, reads the consent page and presses
  Approve or Deny (the form's hidden fields and CSRF token included).
- :class:`LoopbackReceiver` is the native app's redirect listener on
  ``127.0.0.1`` (RFC 8252 §7.3): it records the query the server sends back.
- :func:`oauth_client` is Authlib's httpx ``OAuth2Client``, the real
  third-party client every grant is driven with.
"""

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client

from tests.support import db
from tests.support.actions import Login

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


def discover(server_url: str) -> dict[str, Any]:
    response = httpx.get(f"{server_url}/.well-known/oauth-authorization-server")
    assert response.status_code == 200, response.text
    return dict(response.json())


def oauth_client(
    meta: dict[str, Any],
    client_id: str,
    client_secret: str | None = None,
    **kwargs: Any,
) -> OAuth2Client:
    """Authlib's client for ``client_id`` against the server ``meta`` describes
    (confidential clients authenticate with client_secret_basic by default)."""
    return OAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method=kwargs.pop(
            "token_endpoint_auth_method",
            "client_secret_basic" if client_secret else "none",
        ),
        code_challenge_method=kwargs.pop("code_challenge_method", "S256"),
        token_endpoint=meta["token_endpoint"],
        timeout=30,
        **kwargs,
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(html.unescape(n), html.unescape(v)) for n, v in _HIDDEN.findall(page)]


@dataclass
class Consent:
    """The consent page as the browser saw it."""

    response: httpx.Response
    fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.response.text


class Browser:
    """A person's browser, signed in (session cookie), for one server."""

    def __init__(self, server_url: str, login: Login | None = None) -> None:
        self.server_url = server_url
        self.http = httpx.Client(base_url=server_url, timeout=30)
        if login is not None:
            for cookie in login.cookies.jar:
                self.http.cookies.set(
                    cookie.name, cookie.value or "", path=cookie.path or "/"
                )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self, url: str) -> httpx.Response:
        """GET without following redirects (the test inspects each hop)."""
        return self.http.get(url)

    def consent(self, authorization_url: str) -> Consent:
        response = self.open(authorization_url)
        assert response.status_code == 200, (response.status_code, response.text)
        assert "Approve" in response.text
        assert "Deny" in response.text
        return Consent(response, hidden_fields(response.text))

    def decide(
        self,
        consent: Consent,
        decision: str,
        *,
        origin: str | None = None,
        drop: tuple[str, ...] = (),
    ) -> httpx.Response:
        fields = [(k, v) for k, v in consent.fields if k not in drop]
        # The form may repeat a name (resource), so it is encoded by hand.
        return self.http.post(
            "/oauth/authorize",
            content=urlencode([*fields, ("decision", decision)]),
            headers={
                "Origin": origin or self.server_url,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    def authorize(self, authorization_url: str, decision: str = "approve") -> str:
        """Open the URL, approve (or deny) on the consent page if one is shown,
        and return where the server sent the browser back to."""
        response = self.open(authorization_url)
        if response.status_code == 200:
            consent = Consent(response, hidden_fields(response.text))
            response = self.decide(consent, decision)
        assert response.status_code in (302, 303), (
            response.status_code,
            response.text,
        )
        return urljoin(self.server_url, response.headers["location"])

    def device_page(self, user_code: str) -> httpx.Response:
        return self.http.get("/device", params={"user_code": user_code})

    def decide_device(
        self, user_code: str, decision: str = "approve", *, check: bool = True
    ) -> httpx.Response:
        page = self.device_page(user_code)
        if check:
            assert page.status_code == 200, page.text
        fields = dict(hidden_fields(page.text))
        return self.http.post(
            "/device",
            data={
                "csrf_token": fields.get("csrf_token", ""),
                "user_code": fields.get("user_code", user_code),
                "decision": decision,
            },
            headers={"Origin": self.server_url},
        )


class _Handler(BaseHTTPRequestHandler):
    server: "_Listener"

    def do_GET(self) -> None:
        self.server.received.append(self.path)
        body = b"You can close this window."
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


class _Listener(HTTPServer):
    """A loopback HTTP server that keeps the paths requested of it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[str] = []


@dataclass
class LoopbackReceiver:
    """The native app's redirect listener (RFC 8252 §7.3)."""

    port: int
    received: list[str]
    path: str = "/callback"

    @property
    def registered(self) -> str:
        """What the client registers: no port (any port matches on loopback)."""
        return f"http://127.0.0.1{self.path}"

    @property
    def redirect_uri(self) -> str:
        """What the client sends: the port it actually listens on."""
        return f"http://127.0.0.1:{self.port}{self.path}"

    def follow(self, location: str) -> dict[str, str]:
        """Follow the server's redirect to the listener, as the browser would,
        and return the parameters the listener received."""
        assert location.startswith(self.redirect_uri), location
        response = httpx.get(location)
        assert response.status_code == 200
        return query(self.received[-1])


@contextmanager
def loopback_receiver() -> Iterator[LoopbackReceiver]:
    httpd = _Listener()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield LoopbackReceiver(httpd.server_address[1], httpd.received)
    finally:
        httpd.shutdown()
        httpd.server_close()


def audit_events(database_url: str) -> list[dict[str, Any]]:
    """The audit log (newest first) of the database a live server uses."""
    from authgate.domain.audit import AuditQuery

    async def use(tx: Any) -> list[dict[str, Any]]:
        return [
            {"action": e.action, "details": e.details, "target_id": e.target_id}
            for e in await tx.audit.query(AuditQuery(limit=500))
        ]

    return db.run(database_url, use)
