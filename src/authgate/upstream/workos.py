"""WorkOS (AuthKit) as the upstream provider, through its documented User
Management API (https://workos.com/docs/reference/authkit/authentication).

- ``GET {api}/user_management/authorize`` with ``client_id``, ``redirect_uri``,
  ``response_type=code``, ``provider=authkit``, ``state`` and a PKCE
  ``code_challenge`` (S256): AuthKit signs the person in (password, SSO, social
  login, magic link…) and redirects back with ``code`` and ``state``.
- ``POST {api}/user_management/authenticate`` (JSON) with ``client_id``,
  ``client_secret`` (the API key), ``grant_type=authorization_code``, ``code``
  and ``code_verifier``: returns the ``user`` (``id``, ``email``,
  ``email_verified``, ``first_name``, ``last_name``), the
  ``organization_id`` the person signed in to (if any), an ``access_token``,
  a ``refresh_token`` and the ``authentication_method``. The code is good once,
  for this client and this verifier only.
- ``GET {api}/organizations/{id}`` (``Authorization: Bearer`` the API key)
  names the organization, so the Authgate org made for it carries its name.

The answer comes straight from WorkOS over TLS, authenticated by the API key,
so it is trusted as is (no ID token to check). WorkOS's own tokens are not
kept: Authgate issues its own session.
"""

import logging
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from authgate.domain.context import Peer
from authgate.domain.identities import UpstreamIdentity
from authgate.upstream.base import Flow, ProviderName, UpstreamError

log = logging.getLogger("authgate")

DEFAULT_API_BASE_URL = "https://api.workos.com"
AUTHORIZE_PATH = "/user_management/authorize"
AUTHENTICATE_PATH = "/user_management/authenticate"
ORGANIZATION_PATH = "/organizations/{id}"
TIMEOUT = 10.0

_UNREACHABLE = "WorkOS could not be reached. Try again in a moment."


class WorkOSProvider:
    name: ProviderName = "workos"
    label = "WorkOS"

    def __init__(
        self, *, client_id: str, api_key: str, api_base_url: str = DEFAULT_API_BASE_URL
    ) -> None:
        self.client_id = client_id
        self._api_key = api_key
        self.api_base_url = api_base_url.rstrip("/")

    async def authorization_url(self, flow: Flow) -> str:
        query = urlencode(
            {
                "client_id": self.client_id,
                "redirect_uri": flow.redirect_uri,
                "response_type": "code",
                "provider": "authkit",
                "state": flow.state,
                "code_challenge": create_s256_code_challenge(flow.code_verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{self.api_base_url}{AUTHORIZE_PATH}?{query}"

    async def identity(self, code: str, flow: Flow, peer: Peer) -> UpstreamIdentity:
        body: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self._api_key,
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": flow.code_verifier,
        }
        if peer.ip:
            body["ip_address"] = peer.ip
        if peer.user_agent:
            body["user_agent"] = peer.user_agent
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            try:
                response = await http.post(
                    self.api_base_url + AUTHENTICATE_PATH, json=body
                )
            except httpx.HTTPError as exc:
                log.warning("WorkOS authenticate failed: %s", exc)
                raise UpstreamError("provider_unreachable", _UNREACHABLE) from None
            answer = _json(response)
            if response.status_code != 200:
                error = str(answer.get("error") or answer.get("code") or "error")
                log.warning(
                    "WorkOS refused the code (%s): %s",
                    response.status_code,
                    answer.get("error_description") or answer.get("message"),
                )
                raise UpstreamError(
                    "token_exchange_failed", f"WorkOS refused the sign-in ({error})."
                )
            user = answer.get("user")
            if not isinstance(user, dict) or not user.get("id"):
                raise UpstreamError(
                    "token_exchange_failed", "WorkOS's answer names no user."
                )
            org_id = answer.get("organization_id") or None
            org_name = await self._organization_name(http, org_id) if org_id else None
        name = " ".join(
            part for part in (user.get("first_name"), user.get("last_name")) if part
        )
        return UpstreamIdentity(
            provider=self.name,
            subject=str(user["id"]),
            email=user.get("email") or None,
            email_verified=user.get("email_verified") is True,
            name=name or None,
            org_id=str(org_id) if org_id else None,
            org_name=org_name,
        )

    async def _organization_name(
        self, http: httpx.AsyncClient, org_id: str
    ) -> str | None:
        """The organization's name, or ``None`` (its id then names the org)."""
        try:
            response = await http.get(
                self.api_base_url + ORGANIZATION_PATH.format(id=quote(org_id, safe="")),
                headers={"Authorization": f"Bearer {self._api_key}"},
            )
        except httpx.HTTPError as exc:
            log.warning("WorkOS organization %s: %s", org_id, exc)
            return None
        name = _json(response).get("name") if response.status_code == 200 else None
        return name if isinstance(name, str) and name.strip() else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
