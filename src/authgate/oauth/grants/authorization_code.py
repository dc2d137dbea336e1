"""The authorization code grant's token request (RFC 6749 §4.1.3, OAuth 2.1
§4.1.3, RFC 7636 §4.5-4.6, RFC 8707 §2.2).

The code must be this client's, unexpired and unused; the redirect URI must be
the one the authorization request named; the PKCE verifier must hash to the
challenge. A code presented a second time was stolen or leaked, so the grant it
started (refresh family and access tokens) is revoked (RFC 6749 §4.1.2).
"""

from typing import TYPE_CHECKING

from authgate.domain import clients, grants
from authgate.domain.clients import Client
from authgate.oauth import issuance, pkce
from authgate.oauth.errors import InvalidGrant, InvalidRequest
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server
from authgate.util import clock

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

REPLAYED = "The authorization code was already used; the tokens it issued are revoked."


async def grant(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest
) -> OAuthResponse:
    code = await grants.find_code(stores, request.require("code"))
    if code is None or code.client_id != client.id:
        # Another client's code is refused without touching it: it is the
        # rightful client's to redeem (or to find replayed).
        raise InvalidGrant("The authorization code is invalid or expired.")
    if code.used_at is not None:
        await grants.code_replayed(
            stores, code, access_ttl=server.access_token_ttl, peer=request.peer
        )
        raise InvalidGrant(REPLAYED)
    if code.expires_at <= clock.now():
        raise InvalidGrant("The authorization code has expired.")
    if request.get("redirect_uri") != code.redirect_uri:
        raise InvalidGrant("redirect_uri differs from the authorization request's.")
    verifier = request.get("code_verifier")
    if verifier is None:
        raise InvalidRequest("code_verifier is required (PKCE).")
    if not pkce.verify(verifier, code.code_challenge):
        raise InvalidGrant("The PKCE code_verifier does not match the challenge.")
    resources = server.resources.narrow(code.resources, request.all("resource"))
    if not await grants.redeem_code(stores, code, peer=request.peer):
        await grants.code_replayed(
            stores, code, access_ttl=server.access_token_ttl, peer=request.peer
        )
        raise InvalidGrant(REPLAYED)
    user = await issuance.active_user(stores, code.user_id)
    scope = issuance.approved_scope(client, user, code.scope)
    refresh = (
        await issuance.new_refresh_token(
            stores,
            server,
            client=client,
            user_id=user.id,
            scope=scope,
            resources=code.resources,
            grant_id=code.id,
            authentication=code.authentication,
        )
        if client.allows(clients.REFRESH_TOKEN)
        else None
    )
    return await issuance.token_response(
        stores,
        server,
        client=client,
        user=user,
        scope=scope,
        resources=resources,
        grant_id=code.id,
        refresh_token=refresh,
        nonce=code.nonce,
        authentication=code.authentication,
    )
