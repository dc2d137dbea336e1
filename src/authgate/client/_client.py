"""``AuthgateClient``: the product API over httpx, for the CLI and your scripts."""

from collections.abc import Callable
from typing import Any

import httpx

from authgate import __version__
from authgate.client._errors import (
    STEP_UP,
    ApiError,
    ServerUnreachable,
    step_up_message,
)

USER_AGENT = f"authgate-cli/{__version__}"


class AuthgateClient:
    """A small typed wrapper over ``/api/v1``.

    Example:
        >>> server = "https://auth.example.com"
        >>> with AuthgateClient(server, token) as client:  # doctest: +SKIP
        ...     client.me()["username"]
        'alice'
    """

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        org: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = USER_AGENT,
        refresh: Callable[[], str] | None = None,
    ) -> None:
        """``refresh``: gives a new token when the server refuses this one
        (401), for a token that can be renewed (an OAuth login's); the request
        is then sent once more. It raises when the login cannot be renewed."""
        self.server = server.rstrip("/")
        self._refresh = refresh
        headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if org:
            headers["X-Organization-Id"] = org
        self._http = httpx.Client(
            base_url=self.server, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> "AuthgateClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str | list[str]] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send a request; the decoded JSON body, ``None`` for 204, or ApiError."""
        response = self._send(method, path, json, data, params, headers)
        # A step-up (RFC 9470) is not a refused token: a refresh keeps the
        # old sign-in, so only signing in again helps.
        if (
            response.status_code == 401
            and self._refresh is not None
            and _step_up(response) is None
        ):
            # Refused before anything was done (revoked, signed out
            # elsewhere): renew the login once and ask again.
            self._http.headers["Authorization"] = f"Bearer {self._refresh()}"
            self._refresh = None
            response = self._send(method, path, json, data, params, headers)
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_error:
            challenge = _step_up(response)
            if challenge is not None:
                raise ApiError(401, STEP_UP, step_up_message(challenge))
            if isinstance(body, dict) and "error" in body:
                raise ApiError(
                    response.status_code,
                    str(body["error"]),
                    str(body.get("error_description") or body["error"]),
                )
            raise ApiError(
                response.status_code, "http_error", f"HTTP {response.status_code}"
            )
        return body

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        data: dict[str, str | list[str]] | None,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method, path, json=json, data=data, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ServerUnreachable(
                f"Could not reach the Authgate server at {self.server} "
                f"({_reason(exc)})."
            ) from None

    # -- identity
    def me(self) -> dict[str, Any]:
        return dict(self.request("GET", "/api/v1/me"))

    # -- personal access tokens
    def create_token(
        self,
        name: str,
        *,
        expires_in_days: int,
        scopes: list[str] | None = None,
        org: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "expires_in_days": expires_in_days}
        if scopes:
            body["scopes"] = scopes
        if org:
            body["org"] = org
        return dict(self.request("POST", "/api/v1/access-tokens", json=body))

    def list_tokens(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/v1/access-tokens")["items"])

    def revoke_token(self, token_id: str) -> None:
        self.request("DELETE", f"/api/v1/access-tokens/{token_id}")

    # -- API keys
    def create_key(
        self, name: str, *, permission: str = "read", org: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "permission": permission}
        if org:
            body["org"] = org
        return dict(self.request("POST", "/api/v1/api-keys", json=body))

    def list_keys(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/v1/api-keys")["items"])

    def revoke_key(self, key_id: str) -> None:
        self.request("DELETE", f"/api/v1/api-keys/{key_id}")

    # -- sessions
    def list_sessions(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/v1/sessions")["items"])

    def revoke_session(self, session_id: str) -> None:
        self.request("DELETE", f"/api/v1/sessions/{session_id}")

    def revoke_all_sessions(self) -> int:
        return int(self.request("POST", "/api/v1/sessions/revoke-all")["revoked"])

    # -- organizations
    def list_orgs(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/v1/orgs")["items"])

    def get_org(self, org: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/v1/orgs/{org}"))

    def create_org(self, name: str, slug: str | None = None) -> dict[str, Any]:
        body = {"name": name, **({"slug": slug} if slug else {})}
        return dict(self.request("POST", "/api/v1/orgs", json=body))

    def org_members(self, org: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"/api/v1/orgs/{org}/members")["items"])

    def invite(self, org: str, email: str, role: str) -> dict[str, Any]:
        return dict(
            self.request(
                "POST",
                f"/api/v1/orgs/{org}/invites",
                json={"email": email, "role": role},
            )
        )

    # -- OAuth
    def metadata(self) -> dict[str, Any]:
        """The authorization server's metadata (RFC 8414)."""
        return dict(self.request("GET", "/.well-known/oauth-authorization-server"))


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host not found"
    return type(exc).__name__


def _step_up(response: httpx.Response) -> str | None:
    """The RFC 9470 challenge of a 401 asking for a fresher sign-in."""
    challenge = response.headers.get("www-authenticate", "")
    return challenge if response.status_code == 401 and STEP_UP in challenge else None
