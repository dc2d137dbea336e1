"""The refresh token grant (RFC 6749 §6, OAuth 2.1 §4.3, RFC 8707 §2.2).

The rule is ``domain.refresh_tokens``'s: a token works only for the client it
was issued to, each use returns a new one, and presenting a used one revokes
its whole family with the access tokens issued from the grant. What this grant
adds is the narrowing: a refresh may ask for less scope or a narrower audience
than was granted, never more, and is refused before the token is used up.
"""

from typing import TYPE_CHECKING

from authgate.domain import refresh_tokens
from authgate.domain.clients import Client
from authgate.oauth import issuance, scopes
from authgate.oauth.errors import InvalidGrant
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def grant(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest
) -> OAuthResponse:
    presented = await refresh_tokens.present(
        stores, request.require("refresh_token"), client_id=client.id
    )
    if isinstance(presented, refresh_tokens.Refused):
        # First-party tokens (no client) and other clients' are not usable here;
        # refused before the scope is even read.
        raise InvalidGrant("The refresh token is invalid.")
    current = presented.token
    granted = tuple((current.audience or server.resources.default).split())
    scope = scopes.narrow(current.scope, request.get("scope"))
    resources = server.resources.narrow(granted, request.all("resource"))
    outcome = await refresh_tokens.rotate(
        stores,
        presented,
        prefix=server.token_prefix,
        lifetime=server.refresh_lifetime,
        session_policy=server.session_policy,
        access_ttl=server.access_token_ttl,
        peer=request.peer,
    )
    if isinstance(outcome, refresh_tokens.Refused):
        raise InvalidGrant(
            "The refresh token is invalid, expired, revoked or already used."
        )
    return await issuance.token_response(
        stores,
        server,
        client=client,
        user=outcome.user,
        scope=scope,
        resources=resources,
        grant_id=current.family_id,
        refresh_token=outcome.successor.secret,
        authentication=current.authentication,
    )
