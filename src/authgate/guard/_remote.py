"""Verifying Authgate credentials from another process: JWT signatures against
the issuer's JWKS, opaque tokens (PATs, API keys) by RFC 7662 introspection.
Endpoints are discovered from the issuer's RFC 8414 metadata on first use."""

import asyncio
import base64
import logging
import time
from typing import Any

import httpx
import jwt

from authgate.guard._cache import Verified
from authgate.guard._credentials import Credential
from authgate.guard._errors import CredentialError, wrong_audience
from authgate.guard._principal import Kind, Principal
from authgate.guard._verifiers import org_role
from authgate.util import clock

log = logging.getLogger("authgate.guard")

#: RFC 7662 answers name the kind of an Authgate credential (an extension).
_KINDS: dict[str, Kind] = {"pat": "pat", "api_key": "api_key"}


#: Where an issuer's metadata lives: RFC 8414 §3, then OpenID Connect
#: Discovery §4 (most OpenID providers publish only the latter).
WELL_KNOWN = (
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
)


class IssuerMetadata:
    """The issuer's RFC 8414 (or OpenID Connect Discovery) document, fetched
    once (and again only on demand). It must name the issuer it was fetched
    for (RFC 8414 §3.3), so a look-alike cannot hand out its own JWKS."""

    def __init__(self, issuer: str, http: httpx.AsyncClient | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self._http = http
        self._own: httpx.AsyncClient | None = None
        self._document: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    def client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = self._own = httpx.AsyncClient(timeout=5.0)
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client it made (one passed in is the caller's)."""
        if self._own is not None:
            await self._own.aclose()
            self._own = self._http = None

    async def get(self, name: str) -> str:
        if self._document is None:
            async with self._lock:
                if self._document is None:
                    self._document = await self._fetch()
        value = self._document.get(name)
        if not isinstance(value, str):
            raise CredentialError(
                f"The authorization server does not publish {name}.",
                error="temporarily_unavailable",
                status=503,
            )
        return value

    async def _fetch(self) -> dict[str, Any]:
        for path in WELL_KNOWN:
            try:
                response = await self.client().get(self.issuer + path)
                if response.status_code == 404:
                    continue
                response.raise_for_status()
                document = dict(response.json())
            except (httpx.HTTPError, ValueError, TypeError) as exc:
                raise _unreachable() from exc
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise CredentialError(
                    "The authorization server's metadata names another issuer.",
                    error="temporarily_unavailable",
                    status=503,
                )
            return document
        raise _unreachable()


def _unreachable() -> CredentialError:
    return CredentialError(
        "The authorization server cannot be reached.",
        error="temporarily_unavailable",
        status=503,
    )


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
            # Many issuers leave ``alg`` out; PyJWK then goes by the key type,
            # and the verifier still checks that the key fits the token's alg.
            alg = entry.get("alg")
            if entry.get("use", "sig") != "sig" or (
                alg is not None and alg not in self.algorithms
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
    be reached the guard fails closed: 503, never a pass. A failure that is
    this app's to fix (the issuer refusing its client id and secret) says so
    in the answer and, once per kind of failure, in the log
    (``authgate.guard``), not on every request.
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
        self.client_id = client_id
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._authorization = f"Basic {basic}"
        self._logged: set[str] = set()

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
            self._log_once("unreachable", "cannot reach %s: %r", endpoint, exc)
            raise _unavailable() from exc
        if response.status_code == 401:
            # RFC 7662 §2.1 (RFC 6749 §5.2 invalid_client): our credentials.
            self._log_once(
                "client",
                "%s refused client_id %r and its secret (HTTP 401): PATs and API "
                "keys cannot be checked until the IntrospectionVerifier is given "
                "a confidential client's id and secret registered at the issuer.",
                endpoint,
                self.client_id,
            )
            raise CredentialError(
                "This app cannot check personal access tokens or API keys: the "
                "issuer refused its introspection client (client id or secret "
                "wrong). Its operator must fix them; retrying will not help.",
                error="temporarily_unavailable",
                status=503,
            )
        if response.status_code != 200:
            self._log_once(
                f"status {response.status_code}",
                "%s answered HTTP %s",
                endpoint,
                response.status_code,
            )
            raise _unavailable()
        try:
            answer = dict(response.json())
        except ValueError as exc:
            self._log_once("not json", "%s answered no JSON", endpoint)
            raise _unavailable() from exc
        if (
            answer.get("active") is not True
            or answer.get("token_type") == "refresh_token"
        ):
            raise CredentialError("The token is invalid, expired or revoked.")
        audience = answer.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        # PATs and API keys are not bound to one resource: the issuer names its
        # own API as their audience, and a resource that configured
        # introspection trusts them. Any other audience is someone else's.
        allowed = {self.audience, self.metadata.issuer}
        if self.audience and audience is not None and not allowed & set(audiences):
            raise wrong_audience(self.audience)
        kind = _KINDS.get(str(answer.get("kind")))
        if kind is None:  # not a credential this verifier knows: never guess
            raise CredentialError("The token is not a personal access token or key.")
        subject = str(answer.get("sub", ""))
        expires = answer.get("exp")
        principal = Principal(
            subject=subject,
            kind=kind,
            credential_id=answer.get("jti") or answer.get("credential_id"),
            user_id=subject or None,
            client_id=answer.get("client_id"),
            org_id=answer.get("org"),
            role=org_role(answer),
            scopes=frozenset(str(answer.get("scope", "")).split()),
            expires_at=float(expires) if isinstance(expires, int | float) else None,
        )
        valid_until = clock.now().timestamp() + self.cache_seconds
        if principal.expires_at is not None:
            valid_until = min(valid_until, principal.expires_at)
        return Verified(principal, valid_until=valid_until)

    def _log_once(self, kind: str, message: str, *args: object) -> None:
        """Token introspection failing: logged the first time it fails this
        way, since every request with an opaque token would say it again."""
        if kind in self._logged:
            return
        self._logged.add(kind)
        log.error("Token introspection failed: " + message, *args)


class NoIntrospection:
    """Stands where :class:`IntrospectionVerifier` would, in an app given no
    client to introspect with: a valid PAT or API key would otherwise be
    refused as "not recognised", which hides the missing setting. Says what is
    missing in the answer, and once in the log."""

    MISSING = (
        "Personal access tokens and API keys need token introspection, and this "
        "app has no client for it: give remote_verifiers() client_id and "
        "client_secret (a confidential client: authgate admin create-client NAME)."
    )

    def __init__(self) -> None:
        self._logged = False

    def accepts(self, credential: Credential) -> bool:
        return not credential.is_jwt

    async def verify(
        self,
        credential: Credential,  # noqa: ARG002 - the Verifier Protocol's
    ) -> Verified:
        if not self._logged:
            self._logged = True
            log.warning("%s", self.MISSING)
        raise CredentialError(self.MISSING)


def _unavailable() -> CredentialError:
    return CredentialError(
        "Token introspection is unavailable; try again shortly.",
        error="temporarily_unavailable",
        status=503,
    )
