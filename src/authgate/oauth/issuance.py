"""What every successful grant answers (RFC 6749 §5.1): an RFC 9068 access
token, a rotating refresh token when the client may refresh, and an OIDC ID
token (OIDC Core §3.1.3.3) when ``openid`` was granted."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from authgate.domain import authority, orgs, refresh_tokens
from authgate.domain.assurance import Authentication
from authgate.domain.clients import Client
from authgate.domain.jwt import issue_access_token, issue_id_token
from authgate.domain.orgs import Membership
from authgate.domain.users import User
from authgate.oauth.errors import InvalidGrant
from authgate.oauth.requests import OAuthResponse
from authgate.oauth.resources import audience
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

#: RFC 9068 private claim naming the grant a token came from (an authorization
#: or device code id, also its refresh family id), so revoking the grant
#: revokes the token.
GRANT_CLAIM = "gid"


async def active_user(stores: "Stores", user_id: str | None) -> User:
    user = await stores.users.get(user_id) if user_id else None
    if user is None or not user.active:
        raise InvalidGrant("The user this grant belongs to is disabled or gone.")
    return user


async def new_refresh_token(
    stores: "Stores",
    server: Server,
    *,
    client: Client,
    user_id: str,
    scope: Sequence[str],
    resources: Sequence[str],
    grant_id: str,
    authentication: Authentication | None,
) -> str:
    """The first refresh token of a grant; its family id is the grant id, and
    it keeps how the person authenticated for the tokens it refreshes."""
    issued = await refresh_tokens.issue(
        stores,
        prefix=server.token_prefix,
        lifetime=server.refresh_lifetime,
        user_id=user_id,
        family_id=grant_id,
        client_id=client.id,
        scope=" ".join(scope),
        audience=" ".join(resources),
        authentication=authentication,
    )
    return issued.secret


def approved_scope(client: Client, user: User, scope: str) -> tuple[str, ...]:
    """What the person's approval gives the client: the scope asked for, but
    ``admin`` only from an administrator, to a client an administrator
    registered."""
    return authority.grantable(
        scope.split(), registration=client.registration, approver_is_admin=user.is_admin
    )


def user_claims(user: User, scope: Sequence[str]) -> dict[str, Any]:
    """OIDC Core §5.4: what ``profile`` and ``email`` reveal."""
    claims: dict[str, Any] = {}
    if "profile" in scope:
        claims["preferred_username"] = user.username
        claims["name"] = user.username
    if "email" in scope and user.email:
        claims["email"] = user.email
        # a link mailed to it was followed (``domain.verification``)
        claims["email_verified"] = user.email_verified
    return claims


async def acting_org(
    stores: "Stores", user: User, scope: Sequence[str]
) -> Membership | None:
    """The org an OAuth token acts in: the person's default org (the one they
    chose in Authgate; no org is picked on the consent page), with their role
    there, as a viewer when the token cannot write. ``None`` when they have no
    default org."""
    if user.default_org_id is None:
        return None
    return await orgs.acting(
        stores, user.default_org_id, user.id, read_only="write" not in scope
    )


async def token_response(
    stores: "Stores",
    server: Server,
    *,
    client: Client,
    user: User | None,
    scope: Sequence[str],
    resources: Sequence[str],
    grant_id: str | None,
    refresh_token: str | None = None,
    nonce: str | None = None,
    authentication: Authentication | None = None,
) -> OAuthResponse:
    """``authentication``: how ``user`` authenticated for this grant, said by
    both tokens (a refreshed ID token keeps the first ``auth_time``, OIDC Core
    §12.2)."""
    ring = server.ring()
    access = issue_access_token(
        ring,
        issuer=server.issuer,
        subject=user.id if user else client.id,
        audience=audience(resources),
        client_id=client.id,
        scope=" ".join(scope),
        ttl=server.access_token_ttl,
        org=await acting_org(stores, user, scope) if user else None,
        authentication=authentication if user else None,
        extra={GRANT_CLAIM: grant_id} if grant_id else None,
    )
    body: dict[str, Any] = {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": int(server.access_token_ttl.total_seconds()),
        "scope": " ".join(scope),
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    if user is not None and "openid" in scope:
        body["id_token"] = issue_id_token(
            ring,
            issuer=server.issuer,
            subject=user.id,
            client_id=client.id,
            ttl=server.access_token_ttl,
            nonce=nonce,
            access_token=access.token,
            authentication=authentication,
            claims=user_claims(user, scope),
        )
    return OAuthResponse.ok(body)
