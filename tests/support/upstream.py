"""Upstream identity providers on loopback for the upstream sign-in tests, and
a driver that walks a sign-in without a browser.

- :class:`MockIssuer`: the ``oidc-provider-mock`` package's OpenID provider
  on ``127.0.0.1`` in its own process; users and their claims are set
  through its ``PUT /users/{sub}``, and :meth:`~MockIssuer.rotate_keys` swaps
  its signing key as an issuer's key rotation would.
- :func:`workos_stand_in`: ``authgate.upstream.stub`` (WorkOS's API, locally)
  on a live loopback server.
- :class:`SignIn`: ``/login/provider`` → provider → ``/auth/callback`` with
  httpx, each step inspectable.
"""

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from authgate.upstream.stub import StandInUser, WorkOSStandIn
from tests.support.live import LiveServer

CLIENT_ID = "authgate-test"
CLIENT_SECRET = "authgate-test-secret"  # the mock accepts any


class MockIssuer:
    """``oidc-provider-mock`` in its own process on a loopback port (see
    ``oidc_mock_server.py``). Its issuer is its base URL."""

    def __init__(self) -> None:
        env = dict(os.environ)
        # A fresh interpreter: let it reuse compiled bytecode (kept out of the
        # tree), or each start compiles Flask and Authlib anew.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "authgate-pyc")
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("oidc_mock_server.py"))],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self._process.stdout is not None
        port = self._process.stdout.readline().strip()
        if not port.isdigit():
            self._process.kill()
            raise RuntimeError("oidc-provider-mock did not start")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the issuer reports for ``sub`` (email, email_verified…)."""
        response = httpx.put(f"{self.url}/users/{sub}", json=claims, timeout=10)
        response.raise_for_status()

    def signing_kid(self) -> str:
        """The id of the key the JWKS serves (its modulus, when it has no kid)."""
        keys = httpx.get(f"{self.url}/jwks", timeout=10).json()["keys"]
        return str(keys[0].get("kid") or keys[0]["n"])

    def rotate_keys(self) -> None:
        """Sign everything from now on with a new RSA key."""
        response = httpx.post(f"{self.url}/_test/rotate-keys", timeout=10)
        response.raise_for_status()


@contextmanager
def mock_issuer() -> Iterator[MockIssuer]:
    issuer = MockIssuer()
    try:
        yield issuer
    finally:
        issuer.stop()


@dataclass
class StandIn:
    app: WorkOSStandIn
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def workos_stand_in(
    users: list[StandInUser], organizations: dict[str, str] | None = None
) -> Iterator[StandIn]:
    app = WorkOSStandIn(
        client_id=f"client_{secrets.token_hex(8)}",
        api_key=f"sk_test_{secrets.token_hex(16)}",
        users=users,
        organizations=organizations or {},
    )
    server = LiveServer(lambda _url: app).start()
    try:
        yield StandIn(app, server)
    finally:
        server.stop()


def workos_settings(stand_in: StandIn, **extra: Any) -> dict[str, Any]:
    return {
        "workos_client_id": stand_in.app.client_id,
        "workos_api_key": stand_in.app.api_key,
        "workos_api_base_url": stand_in.url,
        **extra,
    }


def oidc_settings(issuer_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "oidc_issuer_url": issuer_url,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        **extra,
    }


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class SignIn:
    """One upstream sign-in walked with httpx (no redirects followed)."""

    def __init__(self, authgate: httpx.Client) -> None:
        self.http = authgate
        self.authorize_url = ""
        self.callback_url = ""

    def start(self, next: str | None = None, invite: str | None = None) -> str:
        params = {k: v for k, v in {"next": next, "invite": invite}.items() if v}
        response = self.http.get("/login/provider", params=params)
        assert response.status_code == 303, response.text
        self.authorize_url = response.headers["location"]
        return self.authorize_url

    def approve_at_mock(self, sub: str, authorize_url: str | None = None) -> str:
        """The mock's consent: POST the subject to its authorization endpoint."""
        response = httpx.post(
            authorize_url or self.authorize_url, data={"sub": sub}, timeout=10
        )
        assert response.status_code == 302, response.text
        self.callback_url = response.headers["location"]
        return self.callback_url

    def approve_at_stand_in(self, user_id: str) -> str:
        """The WorkOS stand-in's page: choose ``user_id``."""
        page = httpx.get(self.authorize_url, timeout=10)
        assert page.status_code == 200, page.text
        params = query(self.authorize_url)
        base = self.authorize_url.split("?", 1)[0]
        response = httpx.post(
            base,
            data={
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "state": params.get("state", ""),
                "code_challenge": params.get("code_challenge", ""),
                "user_id": user_id,
            },
            timeout=10,
        )
        assert response.status_code == 302, response.text
        self.callback_url = response.headers["location"]
        return self.callback_url

    def finish(self, callback_url: str | None = None) -> httpx.Response:
        url = callback_url or self.callback_url
        parts = urlsplit(url)
        return self.http.get(f"{parts.path}?{parts.query}")


def audit_events(database_url: str, action: str) -> list[Any]:
    """The audit events of one action in the database a live server uses,
    newest first (``authgate.domain.audit.AuditEvent``)."""
    from authgate.domain.audit import AuditQuery
    from tests.support import db

    async def use(tx: Any) -> list[Any]:
        return list(await tx.audit.query(AuditQuery(action=action, limit=100)))

    return db.run(database_url, use)


def links(database_url: str, user_id: str) -> list[Any]:
    """The upstream identities linked to a user."""
    from tests.support import db

    async def use(tx: Any) -> list[Any]:
        return list(await tx.identities.for_user(user_id))

    return db.run(database_url, use)
