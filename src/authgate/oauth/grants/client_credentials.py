"""The client credentials grant (RFC 6749 §4.4, OAuth 2.1 §4.2): a confidential
client acting for itself. The token's subject is the client id, it has no user
(so user endpoints such as ``/api/v1/me`` refuse it), and no refresh token is
issued (§4.4.3: the client can simply ask again)."""

from typing import TYPE_CHECKING

from authgate.domain.clients import Client
from authgate.oauth import issuance, scopes
from authgate.oauth.errors import UnauthorizedClient
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def grant(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest
) -> OAuthResponse:
    if client.public:
        raise UnauthorizedClient("client_credentials needs a confidential client.")
    scope = scopes.requested(client, request.get("scope"), for_user=False)
    resources = server.resources.select(request.all("resource"))
    return await issuance.token_response(
        stores,
        server,
        client=client,
        user=None,
        scope=scope,
        resources=resources,
        grant_id=None,
    )
