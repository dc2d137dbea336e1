"""Resource indicators (RFC 8707): the audience of a token is chosen from an
allowlist, a token for one resource is refused by another, and the token
endpoint may narrow the audience of a grant but never widen it."""

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.integration.oauth.conftest import MCP_RESOURCE
from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import (
    DEVICE_GRANT,
    Browser,
    LoopbackReceiver,
    discover,
    oauth_client,
    query,
)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


def test_no_resource_means_the_api(
    server: LiveServer, public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    _client, token = code_flow(public_client["client_id"])
    assert claims(token["access_token"])["aud"] == server.url


def test_token_for_the_mcp_server_is_refused_by_the_api(
    server: LiveServer, public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    _client, token = code_flow(public_client["client_id"], resource=MCP_RESOURCE)
    assert claims(token["access_token"])["aud"] == MCP_RESOURCE
    refused = me(server, token["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


def test_trailing_slash_names_the_same_resource(
    server: LiveServer, public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    _client, token = code_flow(public_client["client_id"], resource=server.url + "/")
    assert claims(token["access_token"])["aud"] == server.url


def test_unknown_resource_is_invalid_target_at_the_redirect(
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    start: Callable[..., Any],
    browser: Browser,
) -> None:
    _client, url, state, _verifier = start(
        public_client["client_id"],
        receiver.redirect_uri,
        resource="https://elsewhere.example/api",
    )
    answer = query(browser.open(url).headers["location"])
    assert answer["error"] == "invalid_target"
    assert answer["state"] == state


def test_refresh_may_narrow_the_audience_not_widen_it(
    server: LiveServer,
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    start: Callable[..., Any],
    browser: Browser,
) -> None:
    # A grant for both the API and the MCP server (resource repeated).
    client, url, _state, verifier = start(
        public_client["client_id"], receiver.redirect_uri
    )
    url += (
        "&"
        + httpx.QueryParams(
            [("resource", server.url), ("resource", MCP_RESOURCE)]
        ).__str__()
    )
    consent = browser.consent(url)
    assert MCP_RESOURCE in consent.text
    location = browser.decide(consent, "approve").headers["location"]
    receiver.follow(location)
    token = client.fetch_token(
        authorization_response=receiver.received[-1], code_verifier=verifier
    )
    assert sorted(claims(token["access_token"])["aud"]) == sorted(
        [server.url, MCP_RESOURCE]
    )
    narrowed = client.refresh_token(
        refresh_token=token["refresh_token"], resource=MCP_RESOURCE
    )
    assert claims(narrowed["access_token"])["aud"] == MCP_RESOURCE
    # The refresh token still carries the whole grant: the API again.
    back = client.refresh_token(
        refresh_token=narrowed["refresh_token"], resource=server.url
    )
    assert claims(back["access_token"])["aud"] == server.url
    assert me(server, back["access_token"]).status_code == 200


def test_refresh_cannot_widen_to_a_resource_not_granted(
    public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    client, token = code_flow(public_client["client_id"])
    with pytest.raises(OAuthError) as wider:
        client.refresh_token(
            refresh_token=token["refresh_token"], resource=MCP_RESOURCE
        )
    assert wider.value.error == "invalid_target"


def test_token_request_may_narrow_a_code(
    server: LiveServer,
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    start: Callable[..., Any],
    browser: Browser,
) -> None:
    client, url, _state, verifier = start(
        public_client["client_id"], receiver.redirect_uri
    )
    url += "&" + str(
        httpx.QueryParams([("resource", server.url), ("resource", MCP_RESOURCE)])
    )
    location = browser.authorize(url)
    receiver.follow(location)
    token = client.fetch_token(
        authorization_response=receiver.received[-1],
        code_verifier=verifier,
        resource=MCP_RESOURCE,
    )
    assert claims(token["access_token"])["aud"] == MCP_RESOURCE


@pytest.mark.parametrize(
    "resource", ["https://elsewhere.example/api", "not-a-uri", MCP_RESOURCE + "#x"]
)
def test_client_credentials_resource_allowlist(
    meta: dict[str, Any], actions: Actions, resource: str
) -> None:
    service = actions.make_client(grant_types=["client_credentials"])
    response = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "client_credentials", "resource": resource},
        auth=(service["client_id"], service["client_secret"]),
    )
    error(response, 400, "invalid_target")


def test_client_credentials_for_the_mcp_server(
    meta: dict[str, Any], actions: Actions, authlib: Callable[..., OAuth2Client]
) -> None:
    service = actions.make_client(grant_types=["client_credentials"])
    client = authlib(service["client_id"], service["client_secret"])
    token = client.fetch_token(grant_type="client_credentials", resource=MCP_RESOURCE)
    assert claims(token["access_token"])["aud"] == MCP_RESOURCE


def test_extra_resources_are_allowed(
    start_server: Callable[..., LiveServer], authlib: Callable[..., OAuth2Client]
) -> None:
    extra = "https://reports.example.com"
    server = start_server(extra_resources=f"{extra}, https://other.example.com/x")
    with server.client() as http:
        service = Actions(http).make_client(grant_types=["client_credentials"])
    meta = discover(server.url)
    assert extra in meta["protected_resources"]
    with oauth_client(meta, service["client_id"], service["client_secret"]) as client:
        token = client.fetch_token(grant_type="client_credentials", resource=extra)
    assert claims(token["access_token"])["aud"] == extra


def test_device_grant_with_a_resource(
    meta: dict[str, Any],
    actions: Actions,
    authlib: Callable[..., OAuth2Client],
    browser: Browser,
) -> None:
    device = actions.make_client(public=True, grant_types=["device_code"])
    started = httpx.post(
        meta["device_authorization_endpoint"],
        data={"client_id": device["client_id"], "resource": MCP_RESOURCE},
    ).json()
    assert browser.decide_device(started["user_code"]).status_code == 200
    client = authlib(device["client_id"])
    token = client.fetch_token(
        grant_type=DEVICE_GRANT, device_code=started["device_code"]
    )
    assert claims(token["access_token"])["aud"] == MCP_RESOURCE
    refused = httpx.post(
        meta["device_authorization_endpoint"],
        data={"client_id": device["client_id"], "resource": "https://nope.example"},
    )
    error(refused, 400, "invalid_target")
