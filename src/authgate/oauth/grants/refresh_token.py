"""The refresh token grant (RFC 6749 §6, OAuth 2.1 §4.3, RFC 8707 §2.2).

Refresh tokens rotate (``domain.refresh_tokens``): each use returns a new one,
and presenting a used one revokes its whole family, which here also revokes
the access tokens issued from the grant. A refresh token works only for the
client it was issued to, and may ask for less scope or a narrower audience
than was granted, never more.
"""

from typing import TYPE_CHECKING

from authgate.domain import refresh_tokens, revocations
from authgate.domain.clients import Client
from authgate.oauth import issuance, scopes
from authgate.oauth.errors import InvalidGrant
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server
from authgate.util import clock, tokens

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def grant(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest
) -> OAuthResponse:
    secret = request.require("refresh_token")
    current = await stores.refresh_tokens.by_hash(tokens.digest(secret))
    if not refresh_tokens.issued_to(current, client.id):
        # First-party tokens (no client) and other clients' are not usable here;
        # refused before the scope is even read.
        raise InvalidGrant("The refresh token is invalid.")
    granted = tuple((current.audience or server.resources.default).split())
    scope = scopes.narrow(current.scope, request.get("scope"))
    resources = server.resources.narrow(granted, request.all("resource"))
    rotation = await refresh_tokens.rotate(
        stores,
        current,
        prefix=server.token_prefix,
        client_id=client.id,
        lifetime=server.refresh_lifetime,
        session_policy=server.session_policy,
        client=request.client,
    )
    if rotation is None:
        after = await stores.refresh_tokens.by_hash(tokens.digest(secret))
        if current.revoked_at is None and after and after.revoked_at is not None:
            # Reuse just revoked the family: its access tokens go with it.
            now = clock.now()
            await revocations.revoke(
                stores, current.family_id, until=now + server.access_token_ttl
            )
        raise InvalidGrant(
            "The refresh token is invalid, expired, revoked or already used."
        )
    return await issuance.token_response(
        stores,
        server,
        client=client,
        user=rotation.user,
        scope=scope,
        resources=resources,
        grant_id=current.family_id,
        refresh_token=rotation.successor.secret,
    )
