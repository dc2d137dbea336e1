"""The MCP SDK's own client against the example MCP server (its own process),
with Authgate as the authorization server and a person approving in Debian's
headless Chromium.

From nothing, ``mcp.client.auth.OAuthClientProvider`` reads the server's 401
challenge, discovers its RFC 9728 metadata and Authgate's RFC 8414 metadata,
registers itself (RFC 7591), runs the code flow with PKCE and ``resource``
(RFC 8707), then lists and calls a tool. A second run reuses the stored tokens
and refreshes them once they expire. Audiences stay apart: the API's tokens are
refused by the MCP server and the MCP server's by ``/api/v1/*``.
"""

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import httpx2
import jwt
import pytest
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from playwright.async_api import Page, async_playwright
from pydantic import AnyUrl

from tests.support.actions import PASSWORD, Actions, Login
from tests.support.browser import ARGS, CHROMIUM, require_chromium
from tests.support.live import LiveServer
from tests.support.oauth import LoopbackReceiver, loopback_receiver, query
from tests.support.processes import ROOT, app_process, free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    # The storage paths are the integration suites'; one database is enough.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

EXAMPLE = ROOT / "examples" / "mcp_server" / "app.py"
#: Short, so the test can watch the client refresh an expired token.
JWT_SECONDS = 10


class MemoryStorage:
    """The SDK's ``TokenStorage``, in memory: what a client would persist."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Person:
    """The signed-out user at the browser: signs in and approves the consent
    the client's redirect handler opens; counts how often they were asked."""

    def __init__(self, page: Page, user: Login, receiver: LoopbackReceiver) -> None:
        self.page = page
        self.user = user
        self.receiver = receiver
        self.asked = 0
        #: where the browser was sent back to (the client's listener)
        self.landed = ""

    async def open(self, authorization_url: str) -> None:
        self.asked += 1
        page = self.page
        await page.goto(authorization_url)
        if await page.get_by_label("Username").count():
            await page.get_by_label("Username").fill(self.user.username)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_load_state()
        approve = page.get_by_role("button", name="Approve")
        if await approve.count():
            await approve.click()
        await page.wait_for_url(f"{self.receiver.redirect_uri}?*")
        self.landed = page.url

    async def callback(self) -> AuthorizationCodeResult:
        answer = query(self.landed)
        assert "code" in answer, answer
        return AuthorizationCodeResult(
            code=answer["code"], state=answer.get("state"), iss=answer.get("iss")
        )


def provider(
    mcp_url: str, storage: MemoryStorage, person: Person
) -> OAuthClientProvider:
    return OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="MCP SDK test client",
            redirect_uris=[AnyUrl(person.receiver.redirect_uri)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.open,
        callback_handler=person.callback,
    )


async def whoami(mcp_url: str, auth: OAuthClientProvider) -> tuple[list[str], str]:
    """One connection: the tools listed and the ``whoami`` tool's answer."""
    async with (
        httpx2.AsyncClient(auth=auth, timeout=30) as http,
        streamable_http_client(mcp_url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("whoami", {})
    assert not result.is_error, result
    text = "".join(getattr(block, "text", "") for block in result.content)
    return [tool.name for tool in tools.tools], text


@pytest.fixture
def mcp_port() -> int:
    return free_port()


@pytest.fixture
def mcp_resource(mcp_port: int) -> str:
    return f"http://127.0.0.1:{mcp_port}/mcp"


@pytest.fixture
def server(start_server: Callable[..., LiveServer], mcp_resource: str) -> LiveServer:
    return start_server(
        mcp_resource_uri=mcp_resource,
        jwt_expiry=f"{JWT_SECONDS}s",
        rate_limit_enabled=False,
    )


@pytest.fixture
def mcp_url(server: LiveServer, mcp_resource: str, mcp_port: int) -> Iterator[str]:
    env = {"AUTHGATE_SERVER": server.url, "RESOURCE_URI": mcp_resource}
    ready = "/.well-known/oauth-protected-resource/mcp"
    with app_process(EXAMPLE, env, port=mcp_port, ready=ready):
        yield mcp_resource


async def connect_twice(
    mcp_url: str, user: Login, receiver: LoopbackReceiver
) -> dict[str, Any]:
    storage = MemoryStorage()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            context = await browser.new_context()
            context.set_default_timeout(30_000)
            person = Person(await context.new_page(), user, receiver)

            # First run, from nothing.
            first = provider(mcp_url, storage, person)
            tools, subject = await whoami(mcp_url, first)
            registered = storage.client_info
            issued = storage.tokens
            asked_first = person.asked

            # Second run: a new client object over the same storage, at once.
            second = provider(mcp_url, storage, person)
            _tools, again = await whoami(mcp_url, second)
            reused = storage.tokens

            # Once the access token has expired, the client refreshes it.
            await asyncio.sleep(JWT_SECONDS + 1)
            _tools, refreshed_subject = await whoami(mcp_url, first)
            refreshed = storage.tokens
        finally:
            await browser.close()
    return {
        "tools": tools,
        "subject": subject,
        "again": again,
        "refreshed_subject": refreshed_subject,
        "registered": registered,
        "issued": issued,
        "reused": reused,
        "refreshed": refreshed,
        "asked_first": asked_first,
        "asked": person.asked,
    }


def test_sdk_client_connects_from_nothing_and_reuses_its_tokens(
    server: LiveServer, mcp_url: str, actions: Actions
) -> None:
    require_chromium()
    user = actions.user()
    me = httpx.get(f"{server.url}/api/v1/me", headers=user.bearer).json()
    with loopback_receiver() as receiver:
        run = asyncio.run(connect_twice(mcp_url, user, receiver))

    assert "whoami" in run["tools"]
    assert run["subject"] == me["id"]
    assert run["asked_first"] == 1
    # It registered itself: a client id Authgate minted for it.
    assert run["registered"] is not None
    assert run["registered"].client_id
    issued = run["issued"]
    claims = jwt.decode(issued.access_token, options={"verify_signature": False})
    assert claims["aud"] == mcp_url
    assert claims["sub"] == me["id"]
    assert claims["client_id"] == run["registered"].client_id
    # The second run used the stored token: no browser, same token.
    assert run["again"] == me["id"]
    assert run["reused"].access_token == issued.access_token
    # After expiry: refreshed (a new access and a rotated refresh token), and
    # still nobody was asked again.
    assert run["refreshed_subject"] == me["id"]
    assert run["refreshed"].access_token != issued.access_token
    assert run["refreshed"].refresh_token != issued.refresh_token
    assert run["asked"] == 1

    # Audiences stay apart: the MCP token is refused by Authgate's API...
    refused = httpx.get(
        f"{server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {run['refreshed'].access_token}"},
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


def test_api_token_is_refused_by_the_mcp_server(
    server: LiveServer, mcp_url: str, actions: Actions
) -> None:
    user = actions.user()
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    assert claims["aud"] == server.url
    refused = httpx.post(
        mcp_url,
        headers={**user.bearer, "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert "resource_metadata=" in challenge
