"""The WorkOS stand-in answers as WorkOS's User Management API documents:
the authorize redirect, and ``POST /user_management/authenticate`` checking
the client, the API key, the grant, the single-use code and PKCE."""

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from authgate.upstream.stub import StandInUser, WorkOSStandIn

pytestmark = pytest.mark.anyio

REDIRECT = "http://127.0.0.1:8000/auth/callback"
VERIFIER = "v" * 64


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def stand_in() -> WorkOSStandIn:
    return WorkOSStandIn(
        client_id="client_01TEST",
        api_key="sk_test_01",
        users=[
            StandInUser(
                id="user_01ALICE",
                email="alice@example.com",
                first_name="Alice",
                last_name="Liddell",
                organization_id="org_01WONDER",
            ),
            StandInUser(id="user_01BOB", email="bob@example.com"),
        ],
        organizations={"org_01WONDER": "Wonderland"},
    )


@pytest.fixture
async def http(stand_in: WorkOSStandIn) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=stand_in)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://workos.test"
    ) as client:
        yield client


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def code_for(
    http: httpx.AsyncClient, user_id: str, verifier: str = VERIFIER
) -> str:
    page = await http.get(
        "/user_management/authorize",
        params={
            "client_id": "client_01TEST",
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "provider": "authkit",
            "state": "xyz",
            "code_challenge": challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 200
    assert "Continue as alice@example.com" in page.text
    chosen = await http.post(
        "/user_management/authorize",
        data={
            "client_id": "client_01TEST",
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "code_challenge": challenge(verifier),
            "user_id": user_id,
        },
    )
    assert chosen.status_code == 302
    location = chosen.headers["location"]
    assert location.startswith(REDIRECT + "?")
    assert query(location)["state"] == "xyz"
    return query(location)["code"]


def authenticate(
    http: httpx.AsyncClient, issued: str, **overrides: str
) -> Awaitable[httpx.Response]:
    body = {
        "client_id": "client_01TEST",
        "client_secret": "sk_test_01",
        "grant_type": "authorization_code",
        "code": issued,
        "code_verifier": VERIFIER,
        **overrides,
    }
    return http.post("/user_management/authenticate", json=body)


async def test_the_documented_response(http: httpx.AsyncClient) -> None:
    code = await code_for(http, "user_01ALICE")
    response = await authenticate(http, code)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "user",
        "organization_id",
        "access_token",
        "refresh_token",
        "authentication_method",
    }
    assert body["organization_id"] == "org_01WONDER"
    assert body["access_token"].count(".") == 2
    user = body["user"]
    assert user["object"] == "user"
    assert user["id"] == "user_01ALICE"
    assert user["email"] == "alice@example.com"
    assert user["email_verified"] is True
    assert (user["first_name"], user["last_name"]) == ("Alice", "Liddell")


async def test_no_organization_means_no_organization_id(
    http: httpx.AsyncClient,
) -> None:
    body = (await authenticate(http, await code_for(http, "user_01BOB"))).json()
    assert "organization_id" not in body


async def test_a_code_is_good_once(http: httpx.AsyncClient) -> None:
    code = await code_for(http, "user_01BOB")
    assert (await authenticate(http, code)).status_code == 200
    again = await authenticate(http, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "sk_wrong"}, 401, "invalid_client"),
        ({"client_id": "client_OTHER"}, 400, "invalid_client"),
        ({"grant_type": "refresh_token"}, 400, "unsupported_grant_type"),
        ({"code_verifier": "w" * 64}, 400, "invalid_grant"),
        ({"code_verifier": ""}, 400, "invalid_grant"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
    ],
)
async def test_refusals(
    http: httpx.AsyncClient, overrides: dict[str, str], status: int, error: str
) -> None:
    code = await code_for(http, "user_01BOB")
    response = await authenticate(http, code, **overrides)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


async def test_bad_authorize_parameters_go_back_with_an_error(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(
        "/user_management/authorize",
        params={
            "client_id": "client_01TEST",
            "redirect_uri": REDIRECT,
            "response_type": "token",
            "provider": "authkit",
            "state": "s1",
        },
    )
    assert response.status_code == 302
    back = query(response.headers["location"])
    assert back["error"] == "invalid_request"
    assert back["state"] == "s1"
    unknown = await http.get(
        "/user_management/authorize",
        params={"client_id": "client_NOPE", "redirect_uri": REDIRECT},
    )
    assert unknown.status_code == 400


async def test_organizations_need_the_api_key(http: httpx.AsyncClient) -> None:
    path = "/organizations/org_01WONDER"
    assert (await http.get(path)).status_code == 401
    found = await http.get(path, headers={"Authorization": "Bearer sk_test_01"})
    assert found.json()["name"] == "Wonderland"
    missing = await http.get(
        "/organizations/org_NOPE", headers={"Authorization": "Bearer sk_test_01"}
    )
    assert missing.status_code == 404
