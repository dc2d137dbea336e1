"""The token endpoint (RFC 6749 §3.2, OAuth 2.1 §3.2): authenticate the client,
then dispatch on ``grant_type`` to ``authgate.oauth.grants``.

Every failure is answered as RFC 6749 §5.2 says, ``invalid_client`` with 401
(and a Basic challenge when Basic was tried), and with ``Cache-Control:
no-store`` like every token response. Failures are returned, not raised, so the
state a refusal leaves (a replayed code's revoked grant, a device code's
grown interval) commits with the request's transaction.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from authgate.domain import clients
from authgate.domain.clients import Client
from authgate.errors import AuthgateError
from authgate.oauth import client_auth
from authgate.oauth.client_metadata import Documents
from authgate.oauth.errors import UnauthorizedClient, UnsupportedGrantType
from authgate.oauth.grants import (
    authorization_code,
    client_credentials,
    device_code,
    refresh_token,
)
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

Grant = Callable[["Stores", Server, Client, OAuthRequest], Awaitable[OAuthResponse]]

GRANTS: dict[str, Grant] = {
    clients.AUTHORIZATION_CODE: authorization_code.grant,
    clients.REFRESH_TOKEN: refresh_token.grant,
    clients.CLIENT_CREDENTIALS: client_credentials.grant,
    clients.DEVICE_CODE: device_code.grant,
}


def reads_only(request: OAuthRequest) -> bool:
    """Whether answering ``request`` writes nothing, so it can run in a read
    transaction (on SQLite: without the write lock): client credentials, which
    issue no refresh token and audit nothing. Anything else may write, even to
    refuse (a replayed code revokes its grant)."""
    return request.get("grant_type") == clients.CLIENT_CREDENTIALS


async def handle(
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> OAuthResponse:
    try:
        grant_type = request.require("grant_type")
        grant = GRANTS.get(grant_type)
        if grant is None:
            raise UnsupportedGrantType(f"Unsupported grant_type {grant_type[:80]!r}.")
        client = await client_auth.authenticate(stores, server, request, documents)
        if not client.allows(grant_type):
            raise UnauthorizedClient(f"This client may not use {grant_type}.")
        return await grant(stores, server, client, request)
    except AuthgateError as exc:
        return OAuthResponse.error(exc)
