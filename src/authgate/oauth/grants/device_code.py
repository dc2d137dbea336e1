"""The device code grant's token request: polling (RFC 8628 §3.4-3.5).

Until the user decides, the client hears ``authorization_pending``; polling
faster than the interval gets ``slow_down`` and the interval grows by five
seconds for good; then ``access_denied``, ``expired_token``, or tokens exactly
once (a second poll after success is ``invalid_grant``).
"""

from typing import TYPE_CHECKING

from authgate.domain import clients, grants
from authgate.domain.clients import Client
from authgate.domain.grants import Poll
from authgate.oauth import issuance
from authgate.oauth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    SlowDown,
)
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.oauth.server import Server

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def grant(
    stores: "Stores", server: Server, client: Client, request: OAuthRequest
) -> OAuthResponse:
    device = await grants.find_device(stores, request.require("device_code"))
    if device is None or device.client_id != client.id:
        raise InvalidGrant("The device code is invalid.")
    resources = server.resources.narrow(device.resources, request.all("resource"))
    outcome, device = await grants.poll_device(stores, device, peer=request.peer)
    if outcome is Poll.PENDING:
        raise AuthorizationPending
    if outcome is Poll.SLOW_DOWN:
        raise SlowDown(
            f"Polling too fast; wait at least {device.interval} s between polls."
        )
    if outcome is Poll.DENIED:
        raise AccessDenied("The user denied the request.")
    if outcome is Poll.EXPIRED:
        raise ExpiredToken
    if outcome is Poll.USED:
        raise InvalidGrant("The device code was already used.")
    user = await issuance.active_user(stores, device.user_id)
    scope = issuance.approved_scope(client, user, device.scope)
    refresh = (
        await issuance.new_refresh_token(
            stores,
            server,
            client=client,
            user_id=user.id,
            scope=scope,
            resources=device.resources,
            grant_id=device.id,
            authentication=device.authentication,
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
        grant_id=device.id,
        refresh_token=refresh,
        authentication=device.authentication,
    )
