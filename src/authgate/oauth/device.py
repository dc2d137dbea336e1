"""The device authorization endpoint (RFC 8628 §3.1-3.2).

A client on a device without a browser (or a CLI told ``--device``) asks for a
device code and a user code; the user enters the code at ``verification_uri``
(the ``/device`` page) on any other device, signs in, and approves; the client
polls the token endpoint meanwhile (``authgate.oauth.grants.device_code``).
"""

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from authgate.domain import clients, grants
from authgate.errors import AuthgateError
from authgate.oauth import client_auth, scopes
from authgate.oauth.client_metadata import Documents
from authgate.oauth.errors import UnauthorizedClient
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import DEVICE_PAGE, Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


def verification_uri(server: Server, user_code: str | None = None) -> str:
    """The page to enter the code at; with ``user_code`` the §3.3.1
    ``verification_uri_complete`` that fills it in."""
    query = f"?{urlencode({'user_code': user_code})}" if user_code else ""
    return server.url(DEVICE_PAGE) + query


async def authorize(
    stores: "Stores", server: Server, request: OAuthRequest, documents: Documents
) -> OAuthResponse:
    try:
        client = await client_auth.authenticate(stores, server, request, documents)
        if not client.allows(clients.DEVICE_CODE):
            raise UnauthorizedClient("This client may not use the device grant.")
        scope = scopes.requested(client, request.get("scope"))
        resources = server.resources.select(request.all("resource"))
        started = await grants.start_device(
            stores,
            prefix=server.token_prefix,
            client_id=client.id,
            scope=" ".join(scope),
            resources=resources,
            ttl=server.device_code_ttl,
        )
    except AuthgateError as exc:
        return OAuthResponse.error(exc)
    shown = grants.format_user_code(started.user_code)
    return OAuthResponse.ok(
        {
            "device_code": started.device_code,
            "user_code": shown,
            "verification_uri": verification_uri(server),
            "verification_uri_complete": verification_uri(server, shown),
            "expires_in": int(server.device_code_ttl.total_seconds()),
            "interval": started.device.interval,
        }
    )
