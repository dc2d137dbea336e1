"""Bearer JWTs minted by another issuer (``AUTHGATE_API_OAUTH_ISSUER``) on the
API: native and mobile apps that sign in with the upstream provider directly
call ``/api/v1/*`` with the provider's token instead of an Authgate one.

The token is checked offline by the guard's :class:`JwtVerifier` against the
issuer's discovery document and JWKS (signature, ``iss``, ``exp``, ``nbf``),
then its audience: one of ``AUTHGATE_API_OAUTH_AUDIENCES``, or with none
listed any audience but the MCP resource's (RFC 8707 separation: a token
minted for the MCP server stays there). Its subject is resolved to an account
by the upstream sign-in rules (``domain.identities.sign_in``), except that a
bearer token makes an account only when registration is open.

Only access tokens pass. The same provider hands every app that signs people
in an ID token, signed by the same key and naming the same subject; taken as a
bearer, any such app (or anyone who got hold of one of its ID tokens) could
act as the person here. An ID token is known by the claims only ID tokens
carry (``nonce``, ``at_hash``, ``c_hash``), and with no audience list to tell
this API's tokens from other apps' the ``typ`` must be RFC 9068's ``at+jwt``.
A token from outside is never an administrator's: admin rights come only
from Authgate's own credentials.
"""

import logging
from typing import Any
from urllib.parse import urlsplit

import jwt

from authgate import upstream
from authgate.config import Settings
from authgate.domain import identities
from authgate.domain.context import Peer
from authgate.domain.identities import UpstreamIdentity
from authgate.domain.users import User
from authgate.errors import SignInRefused
from authgate.guard import (
    ACCESS_TOKEN_TYPES,
    Credential,
    CredentialError,
    IssuerMetadata,
    JwksKeySource,
    JwtVerifier,
    Principal,
    Verified,
)
from authgate.server.principals import USER_SCOPES, with_roles
from authgate.server.services import Services

log = logging.getLogger("authgate")

#: Links of an issuer that is not the web sign-in provider live apart, so its
#: subjects can never name another provider's users.
OWN_LINKS = "api_oauth"
#: Most issuers sign with RSA; none of these can be forged with a public key.
ALGORITHMS = ("RS256", "ES256", "PS256", "RS384", "ES384", "RS512", "ES512")
#: Claims that make a JWT an ID token (OIDC Core §2, §3.1.3.6, §3.3.2.11).
ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")


def link_provider(settings: Settings) -> str:
    """Whose identity links the issuer's subjects are: the web sign-in
    provider's when the issuer is that provider, so the person who signed in on
    the web is the same user in the app; otherwise links of its own."""
    issuer = (settings.api_oauth_issuer or "").rstrip("/")
    selected = upstream.select(settings)
    if selected == "oidc" and issuer == (settings.oidc_issuer_url or "").rstrip("/"):
        return "oidc"
    if (
        selected == "workos"
        and urlsplit(issuer).netloc == urlsplit(settings.workos_api_base_url).netloc
    ):
        return "workos"
    return OWN_LINKS


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ExternalJwtVerifier:
    """A guard ``Verifier`` for the external issuer's JWTs, placed before the
    server's own JWT verifier: it claims only tokens whose ``iss`` names its
    issuer (read unverified, to route; everything is verified after)."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        if settings.api_oauth_issuer is None:
            raise ValueError("ExternalJwtVerifier needs AUTHGATE_API_OAUTH_ISSUER")
        self.services = services
        self.issuer = settings.api_oauth_issuer
        self.audiences = list(settings.api_oauth_audiences)
        self.mcp_resource = settings.mcp_resource_uri
        self.provider = link_provider(settings)
        self.metadata = IssuerMetadata(self.issuer)
        if not self.audiences:
            log.warning(
                "AUTHGATE_API_OAUTH_AUDIENCES is not set: the API accepts only "
                "at+jwt access tokens from %s, which many issuers do not mint. "
                "Set the audiences this API's tokens carry.",
                self.issuer,
            )
        self.jwt = JwtVerifier(
            JwksKeySource(self.metadata, algorithms=ALGORITHMS),
            issuer=self.issuer,
            audience=self.audiences or None,
            algorithms=ALGORITHMS,
            # Few issuers type their access tokens as RFC 9068 asks; a token
            # typed otherwise is told from another app's only by its audience.
            token_types=(
                (*ACCESS_TOKEN_TYPES, "JWT", None)
                if self.audiences
                else ACCESS_TOKEN_TYPES
            ),
        )

    async def aclose(self) -> None:
        await self.metadata.aclose()

    def accepts(self, credential: Credential) -> bool:
        if not credential.is_jwt:
            return False
        try:
            claims = jwt.decode(credential.value, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return False
        return bool(claims.get("iss") == self.issuer)

    async def verify(self, credential: Credential) -> Verified:
        claims = await self.jwt.claims(credential.value)
        if any(name in claims for name in ID_TOKEN_CLAIMS):
            raise CredentialError("An ID token is not an access token.")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not self.audiences and (audience is None or self.mcp_resource in audiences):
            raise CredentialError("The token is not meant for this API.")
        user = await self._user(
            claims, Peer(ip=credential.ip, user_agent=credential.user_agent)
        )
        scope = claims.get("scope")
        named = (
            frozenset(scope.split()) & USER_SCOPES if isinstance(scope, str) else None
        )
        principal = Principal(
            subject=user.id,
            kind="jwt",
            credential_id=_text(claims.get("jti")),
            user_id=user.id,
            client_id=_text(claims.get("client_id")) or _text(claims.get("azp")),
            # A token that names API scopes gets those; any other acts as its
            # user, as a sign-in through the provider would, but never with
            # the admin role: another party's token does not run this server.
            scopes=named or USER_SCOPES,
            expires_at=float(claims["exp"]),
            issuer=self.issuer,
        )
        return Verified(
            with_roles(self.services.settings, principal, user),
            valid_until=float(claims["exp"]),
            tags=(user.id,),
        )

    async def _user(self, claims: dict[str, Any], peer: Peer) -> User:
        settings = self.services.settings
        identity = UpstreamIdentity(
            provider=self.provider,
            subject=str(claims["sub"]),
            email=_text(claims.get("email")),
            email_verified=claims.get("email_verified") is True,
            username=_text(claims.get("preferred_username")),
            name=_text(claims.get("name")),
        )
        policy = identities.Policy(
            allowlist=self.services.allowlist,
            allow_registration=settings.allow_registration,
            create_accounts=settings.allow_registration,
        )
        try:
            async with self.services.db.transaction() as tx:
                signed_in = await identities.sign_in(
                    tx, identity, policy, invite_code=None, peer=peer
                )
        except SignInRefused as exc:
            # One answer for every refusal: it must not tell a caller whether
            # an account exists for an address or a subject.
            raise CredentialError(
                "The token's subject cannot use this API here."
            ) from exc
        return signed_in.user
