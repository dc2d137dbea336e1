"""The client credentials grant (RFC 6749 §4.4): a confidential client acting
for itself; its tokens name no user."""

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer


@pytest.fixture
def service(actions: Actions) -> dict[str, Any]:
    """A confidential client allowed the client credentials grant only."""
    return actions.make_client(grant_types=["client_credentials"], scope="read")


def test_client_credentials(
    server: LiveServer,
    meta: dict[str, Any],
    service: dict[str, Any],
    authlib: Callable[..., OAuth2Client],
) -> None:
    client = authlib(service["client_id"], service["client_secret"])
    token = client.fetch_token(grant_type="client_credentials")
    assert "refresh_token" not in token
    assert token["scope"] == "read"
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["sub"] == service["client_id"]
    assert claims["client_id"] == service["client_id"]
    assert claims["aud"] == server.url
    # A token with no user: user endpoints refuse it.
    response = httpx.get(
        f"{server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    error(response, 403, "forbidden")


def test_client_secret_post(
    meta: dict[str, Any], service: dict[str, Any], authlib: Callable[..., OAuth2Client]
) -> None:
    client = authlib(
        service["client_id"],
        service["client_secret"],
        token_endpoint_auth_method="client_secret_post",
    )
    assert client.fetch_token(grant_type="client_credentials")["access_token"]


def test_scope_beyond_the_clients_is_refused(
    service: dict[str, Any], authlib: Callable[..., OAuth2Client]
) -> None:
    client = authlib(service["client_id"], service["client_secret"])
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(grant_type="client_credentials", scope="write")
    assert refused.value.error == "invalid_scope"


def test_openid_scope_is_refused_without_a_user(
    actions: Actions, authlib: Callable[..., OAuth2Client]
) -> None:
    registered = actions.make_client(grant_types=["client_credentials"])
    client = authlib(registered["client_id"], registered["client_secret"])
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(grant_type="client_credentials", scope="openid")
    assert refused.value.error == "invalid_scope"


def test_wrong_secret_is_invalid_client_with_a_basic_challenge(
    meta: dict[str, Any], service: dict[str, Any]
) -> None:
    response = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=(service["client_id"], "ag_cs_wrong"),
    )
    error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="authgate"'
    assert response.headers["cache-control"] == "no-store"
    posted = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "client_id": service["client_id"],
            "client_secret": "wrong",
        },
    )
    error(posted, 401, "invalid_client")
    assert "www-authenticate" not in posted.headers


def test_unknown_client_and_no_credentials(meta: dict[str, Any]) -> None:
    unknown = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=("cl_nobody", "secret"),
    )
    error(unknown, 401, "invalid_client")
    anonymous = httpx.post(
        meta["token_endpoint"], data={"grant_type": "client_credentials"}
    )
    error(anonymous, 401, "invalid_client")


def test_public_clients_cannot_use_it(
    meta: dict[str, Any], public_client: dict[str, Any]
) -> None:
    response = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "client_id": public_client["client_id"],
        },
    )
    error(response, 400, "unauthorized_client")


def test_a_grant_the_client_was_not_given(
    actions: Actions, meta: dict[str, Any]
) -> None:
    registered = actions.make_client(redirect_uris=["https://app.example.com/cb"])
    response = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=(registered["client_id"], registered["client_secret"]),
    )
    error(response, 400, "unauthorized_client")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        (
            {"grant_type": ["client_credentials", "client_credentials"]},
            "invalid_request",
        ),
    ],
)
def test_malformed_token_requests(
    meta: dict[str, Any], service: dict[str, Any], data: dict[str, Any], code: str
) -> None:
    response = httpx.post(
        meta["token_endpoint"],
        data=data,
        auth=(service["client_id"], service["client_secret"]),
    )
    error(response, 400, code)


def test_a_json_body_is_answered_in_oauth_shape(
    meta: dict[str, Any], service: dict[str, Any]
) -> None:
    response = httpx.post(
        meta["token_endpoint"],
        json={"grant_type": "client_credentials"},
        auth=(service["client_id"], service["client_secret"]),
    )
    error(response, 400, "invalid_request")
