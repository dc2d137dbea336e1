"""Any OpenID Connect issuer (Keycloak, Authentik, Zitadel, Dex, Auth0, Google,
another Authgate…) as the upstream provider, through Authlib's client.

- Discovery (OIDC Discovery 1.0 §4): ``{issuer}/.well-known/openid-configuration``;
  the document's ``issuer`` must be the configured one (§4.3), or every
  token it vouches for could come from someone else.
- Authorization code flow (OIDC Core §3.1) with ``state``, ``nonce`` and PKCE
  S256 (RFC 7636), all made per attempt (:class:`~authgate.upstream.base.Flow`).
- ID token validation (OIDC Core §3.1.3.7): signature by a key of the issuer's
  JWKS with one of the algorithms it announces; ``iss``, ``aud`` (and
  ``azp``), ``exp``, ``iat`` and ``nonce``; ``at_hash`` when present.
- Key rotation: the JWKS is cached; a token signed by a key it lacks (an
  unknown ``kid``, or a signature the cached keys do not verify) makes one
  fresh fetch, at most every :data:`JWKS_REFETCH_INTERVAL` seconds so forged
  tokens cannot turn into a flood of requests to the issuer.
- Userinfo (OIDC Core §5.3) when the ID token lacks the email; its ``sub``
  must be the ID token's (§5.3.2).
"""

import asyncio
import logging
import time
import warnings
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from authgate.domain.context import Peer
from authgate.domain.identities import UpstreamIdentity
from authgate.upstream.base import Flow, ProviderName, UpstreamError
from authgate.util import clock

with warnings.catch_warnings():
    # Recent Authlib prefers the httpx2 fork and warns when it runs on httpx,
    # which is what Authgate (and its error handling here) is built on.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger("authgate")

DISCOVERY_PATH = "/.well-known/openid-configuration"
#: Seconds of clock skew tolerated on ``exp``, ``iat`` and ``nbf``.
LEEWAY = 60
#: Fewest seconds between two forced JWKS fetches (see the module docstring).
JWKS_REFETCH_INTERVAL = 10.0
#: Seconds to wait for the issuer on each request.
TIMEOUT = 10.0

_UNREACHABLE = "The identity provider could not be reached. Try again in a moment."
_UNVERIFIED = "The identity provider's answer could not be verified."


class _Client(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """Authlib's framework-free async OIDC client (what its Starlette
    integration builds on, minus the server-side session: the flow's secrets
    live in the sealed state cookie instead)."""

    client_cls = AsyncOAuth2Client


class OidcProvider:
    name: ProviderName = "oidc"

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        scopes: str,
        label: str,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.label = label
        self._client = _Client(
            framework=None,
            name="oidc",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=self.issuer + DISCOVERY_PATH,
            client_kwargs={
                "scope": scopes,
                "code_challenge_method": "S256",
                # A public client (no secret) authenticates by PKCE alone.
                "token_endpoint_auth_method": (
                    "client_secret_basic" if client_secret else "none"
                ),
                "timeout": TIMEOUT,
            },
        )
        self._jwks_lock = asyncio.Lock()
        self._jwks_forced_at = float("-inf")

    async def metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = await self._client.load_server_metadata()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC discovery at %s failed: %s", self.issuer, exc)
            raise UpstreamError("provider_unreachable", _UNREACHABLE) from None
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            log.error(
                "OIDC discovery: issuer %r is not the configured %r",
                metadata.get("issuer"),
                self.issuer,
            )
            self._client.server_metadata.clear()  # look again next time
            raise UpstreamError(
                "issuer_mismatch",
                "The identity provider is misconfigured (its discovery document "
                "names another issuer).",
            )
        return metadata

    async def authorization_url(self, flow: Flow) -> str:
        await self.metadata()
        found = await self._client.create_authorization_url(
            flow.redirect_uri,
            state=flow.state,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
        )
        return str(found["url"])

    async def identity(
        self,
        code: str,
        flow: Flow,
        peer: Peer,  # noqa: ARG002 - the Protocol's; WorkOS uses it
    ) -> UpstreamIdentity:
        metadata = await self.metadata()
        try:
            token: dict[str, Any] = await self._client.fetch_access_token(
                redirect_uri=flow.redirect_uri,
                code=code,
                code_verifier=flow.code_verifier,
            )
        except OAuthError as exc:
            raise UpstreamError(
                "token_exchange_failed",
                f"The identity provider refused the sign-in ({exc.error}).",
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC token request to %s failed: %s", self.issuer, exc)
            raise UpstreamError("provider_unreachable", _UNREACHABLE) from None
        if not token.get("id_token"):
            raise UpstreamError(
                "id_token_missing", "The identity provider sent no ID token."
            )
        claims = await self._verify(
            token["id_token"], metadata, nonce=flow.nonce, token=token
        )
        # Read from the ID token only: how the person signed in is the
        # issuer's signed statement (OIDC Core §2), not userinfo's.
        amr = _methods(claims.get("amr"))
        if not claims.get("email") and metadata.get("userinfo_endpoint"):
            claims = {**claims, **await self._userinfo(token, claims["sub"])}
        return UpstreamIdentity(
            provider=self.name,
            subject=str(claims["sub"]),
            email=_text(claims.get("email")),
            email_verified=claims.get("email_verified") in (True, "true"),
            username=_text(claims.get("preferred_username")),
            name=_text(claims.get("name")),
            amr=amr,
        )

    async def _verify(
        self,
        id_token: str,
        metadata: dict[str, Any],
        *,
        nonce: str,
        token: dict[str, Any],
    ) -> dict[str, Any]:
        algorithms = [
            a
            for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            if a != "none"  # OIDC Core §3.1.3.7: an ID token must be signed
        ]
        try:
            decoded = await self._decode(id_token, algorithms, force=False)
        except (BadSignatureError, InvalidKeyIdError):
            # Signed by a key the cached set lacks: the issuer may have rotated.
            decoded = await self._decode_after_refetch(id_token, algorithms)
        except (JoseError, ValueError):
            raise UpstreamError("id_token_invalid", _UNVERIFIED) from None
        checks = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            {
                "nonce": nonce,
                "client_id": self.client_id,
                "access_token": token.get("access_token"),
            },
        )
        try:
            checks.validate(now=int(clock.now().timestamp()), leeway=LEEWAY)
        except ExpiredTokenError:
            raise UpstreamError(
                "id_token_expired",
                "The identity provider's ID token has expired. Check that both "
                "servers' clocks are right, then sign in again.",
            ) from None
        except (InvalidClaimError, MissingClaimError) as exc:
            reason = {
                "nonce": "nonce_mismatch",
                "iss": "issuer_mismatch",
                "aud": "audience_mismatch",
                "azp": "audience_mismatch",
            }.get(exc.claim, "id_token_invalid")
            raise UpstreamError(reason, _UNVERIFIED) from None
        except JoseError:
            raise UpstreamError("id_token_invalid", _UNVERIFIED) from None
        return dict(checks)

    async def _decode(
        self, id_token: str, algorithms: list[str], *, force: bool
    ) -> Any:
        try:
            jwks = await self._client.fetch_jwk_set(force=force)
        except (httpx.HTTPError, ValueError, RuntimeError) as exc:
            log.warning("OIDC JWKS fetch from %s failed: %s", self.issuer, exc)
            raise UpstreamError("provider_unreachable", _UNREACHABLE) from None
        return jwt.decode(
            id_token,
            key=KeySet.import_key_set(jwks),
            registry=JWSRegistry(algorithms=algorithms, strict_check_header=False),
        )

    async def _decode_after_refetch(self, id_token: str, algorithms: list[str]) -> Any:
        async with self._jwks_lock:
            if time.monotonic() - self._jwks_forced_at < JWKS_REFETCH_INTERVAL:
                raise UpstreamError("id_token_invalid", _UNVERIFIED)
            self._jwks_forced_at = time.monotonic()
            log.info("OIDC: unknown signing key; fetching %s's JWKS again", self.issuer)
            try:
                return await self._decode(id_token, algorithms, force=True)
            except (JoseError, ValueError):
                raise UpstreamError("id_token_invalid", _UNVERIFIED) from None

    async def _userinfo(self, token: dict[str, Any], subject: str) -> dict[str, Any]:
        try:
            info = dict(await self._client.userinfo(token=token))
        except (OAuthError, httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC userinfo from %s failed: %s", self.issuer, exc)
            raise UpstreamError("userinfo_failed", _UNREACHABLE) from None
        if info.get("sub") != subject:
            raise UpstreamError("userinfo_mismatch", _UNVERIFIED)
        return info


def _methods(value: Any) -> tuple[str, ...]:
    """An ``amr`` claim's values (OIDC Core §2: an array of strings); anything
    else says nothing."""
    if not isinstance(value, list):
        return ()
    return tuple(sorted({v for v in value if isinstance(v, str) and v.strip()}))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
