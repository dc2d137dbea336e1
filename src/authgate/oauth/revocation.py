"""Token revocation (RFC 7009).

A client revokes its own tokens:

- a refresh token: its whole family, and with it the access tokens of the
  grant (§2.1: "SHOULD also invalidate all access tokens based on the same
  authorization grant");
- an access token (a JWT): its ``jti`` is recorded as revoked until the token
  would have expired, and its cached verifications are evicted, so Authgate's
  own guard refuses it from the next request (resource servers that verify
  offline keep accepting it until it expires: keep access tokens short).

§2.2: the answer is 200 whether or not the token was valid, known, or this
client's, so the endpoint tells nobody anything about tokens they do not hold.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from authgate.domain import audit, grants, revocations
from authgate.domain.clients import Client
from authgate.errors import AuthgateError
from authgate.oauth import access_tokens, client_auth
from authgate.oauth.client_metadata import Documents
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server
from authgate.util import clock, tokens

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def _revoke_jwt(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest, token: str
) -> None:
    claims = access_tokens.decode(server.ring(), token, issuer=server.issuer)
    if claims is None or claims.get("client_id") != client.id:
        return
    expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
    if expires <= clock.now():
        return
    jti = str(claims["jti"])
    await revocations.revoke(stores, jti, until=expires)
    subject = str(claims["sub"])
    await audit.record(
        stores,
        audit.Action.TOKEN_REVOKED,
        request.peer,
        actor_id=None if subject == client.id else subject,
        target_id=jti,
        details={"client_id": client.id, "token_type": "access_token"},
    )


async def _revoke_refresh(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest, token: str
) -> None:
    found = await stores.refresh_tokens.by_hash(tokens.digest(token))
    if found is None or found.client_id != client.id or found.revoked_at is not None:
        return
    await grants.revoke_grant(
        stores, found.family_id, access_ttl=server.access_token_ttl
    )
    await audit.record(
        stores,
        audit.Action.TOKEN_REVOKED,
        request.peer,
        actor_id=found.user_id,
        target_id=found.family_id,
        details={"client_id": client.id, "token_type": "refresh_token"},
    )


async def revoke(
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> OAuthResponse:
    try:
        client = await client_auth.authenticate(stores, server, request, documents)
        token = request.require("token")
        request.get("token_type_hint")  # §2.1: only a hint; both kinds are tried
    except AuthgateError as exc:
        return OAuthResponse.error(exc)
    if access_tokens.looks_like_jwt(token):
        await _revoke_jwt(stores, server, client, request, token)
    elif tokens.kind_of(token) == "rt":
        await _revoke_refresh(stores, server, client, request, token)
    return OAuthResponse.ok({})
