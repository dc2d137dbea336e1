"""Verifying Authgate credentials from another process: JWT signatures against
the issuer's JWKS, opaque tokens (PATs, API keys) by RFC 7662 introspection.
Endpoints are discovered from the issuer's RFC 8414 metadata on first use."""

import asyncio
import base64
import time
from typing import Any

import httpx
import jwt

from authgate.guard._cache import Verified
from authgate.guard._credentials import Credential
from authgate.guard._errors import CredentialError
from authgate.guard._principal import Kind, Principal

_KINDS: dict[str, Kind] = {"pat": "pat", "key": "api_key"}


class IssuerMetadata:
    """The issuer's RFC 8414 document, fetched once (and again only on demand)."""

    def __init__(self, issuer: str, http: httpx.AsyncClient | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self._http = http
        self._document: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    def client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        return self._http

    async def get(self, name: str) -> str:
        if self._document is None:
            async with self._lock:
                if self._document is None:
                    url = f"{self.issuer}/.well-known/oauth-authorization-server"
                    try:
                        response = await self.client().get(url)
                        response.raise_for_status()
                        self._document = dict(response.json())
                    except (httpx.HTTPError, ValueError) as exc:
                        raise CredentialError(
                            "The authorization server cannot be reached.",
                            error="temporarily_unavailable",
                            status=503,
                        ) from exc
        value = self._document.get(name)
        if not isinstance(value, str):
            raise CredentialError(
                f"The authorization server does not publish {name}.",
                error="temporarily_unavailable",
                status=503,
            )
        return value


class JwksKeySource:
    """Public keys by ``kid`` from the issuer's JWKS (a ``KeySource``).

    An unknown ``kid`` refetches the set, but at most once per
    ``min_refresh_interval``, so a flood of tokens with made-up kids costs the
    issuer one request per interval, not one per token. Rotation works without
    a restart: a new kid is fetched on first sight.
    """

    def __init__(
        self,
        metadata: IssuerMetadata,
        *,
        min_refresh_interval: float = 30.0,
        algorithms: tuple[str, ...] = ("ES256", "RS256"),
    ) -> None:
        self.metadata = metadata
        self.min_refresh_interval = min_refresh_interval
        self.algorithms = algorithms
        self.fetches = 0
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any | None:
        found = self._keys.get(kid)
        if (
            found is None
            and time.monotonic() - self._fetched_at >= self.min_refresh_interval
        ):
            async with self._lock:
                if time.monotonic() - self._fetched_at >= self.min_refresh_interval:
                    await self._fetch()
            found = self._keys.get(kid)
        return found

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        url = await self.metadata.get("jwks_uri")
        try:
            response = await self.metadata.client().get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return  # keep the keys we have; the next interval tries again
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []):
            if (
                entry.get("use", "sig") != "sig"
                or entry.get("alg") not in self.algorithms
            ):
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry).key
            except (jwt.PyJWKError, KeyError):
                continue
        self._keys = keys


class IntrospectionVerifier:
    """Opaque credentials (PATs, API keys, refresh tokens are refused) checked
    with the issuer's RFC 7662 endpoint as a confidential client.

    The answer is cached for ``cache_seconds`` (by the guard's cache), so a
    revoked credential stops working within that time. When the endpoint cannot
    be reached the guard fails closed: 503, never a pass.
    """

    def __init__(
        self,
        metadata: IssuerMetadata,
        *,
        client_id: str,
        client_secret: str,
        audience: str | None = None,
        cache_seconds: float = 5.0,
    ) -> None:
        self.metadata = metadata
        self.audience = audience
        self.cache_seconds = cache_seconds
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._authorization = f"Basic {basic}"

    def accepts(self, credential: Credential) -> bool:
        return not credential.is_jwt

    async def verify(self, credential: Credential) -> Verified:
        endpoint = await self.metadata.get("introspection_endpoint")
        try:
            response = await self.metadata.client().post(
                endpoint,
                data={"token": credential.value},
                headers={"Authorization": self._authorization},
            )
        except httpx.HTTPError as exc:
            raise _unavailable() from exc
        if response.status_code != 200:
            raise _unavailable()
        try:
            answer = dict(response.json())
        except ValueError as exc:
            raise _unavailable() from exc
        if (
            answer.get("active") is not True
            or answer.get("token_type") == "refresh_token"
        ):
            raise CredentialError("The token is invalid, expired or revoked.")
        audience = answer.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience and audience is not None and self.audience not in audiences:
            raise CredentialError("The token is not meant for this resource.")
        kind = _KINDS.get(
            credential.value.split("_")[1] if "_" in credential.value else "", "pat"
        )
        subject = str(answer.get("sub", ""))
        expires = answer.get("exp")
        principal = Principal(
            subject=subject,
            kind=kind,
            credential_id=answer.get("jti") or answer.get("credential_id"),
            user_id=subject or None,
            client_id=answer.get("client_id"),
            org_id=answer.get("org"),
            scopes=frozenset(str(answer.get("scope", "")).split()),
            expires_at=float(expires) if isinstance(expires, int | float) else None,
        )
        valid_until = time.time() + self.cache_seconds
        if principal.expires_at is not None:
            valid_until = min(valid_until, principal.expires_at)
        return Verified(principal, valid_until=valid_until)


def _unavailable() -> CredentialError:
    return CredentialError(
        "Token introspection is unavailable; try again shortly.",
        error="temporarily_unavailable",
        status=503,
    )
