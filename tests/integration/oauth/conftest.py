"""A live server with an MCP resource configured, its metadata, a signed-in
user with a browser, a loopback redirect listener, and the steps of the code
flow as fixtures (Authlib's client for the protocol, the browser for the
person). Every status these tests see is one ``/openapi.json`` documents."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from tests.support.actions import Actions, Login
from tests.support.documented_statuses import statuses_documented
from tests.support.documents import DocumentHost, document_host
from tests.support.live import LiveServer
from tests.support.oauth import (
    Browser,
    LoopbackReceiver,
    discover,
    loopback_receiver,
    oauth_client,
    query,
)

#: The MCP server tokens may also be issued for (AUTHGATE_MCP_RESOURCE_URI).
MCP_RESOURCE = "https://mcp.example.com/mcp"


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(mcp_resource_uri=MCP_RESOURCE)


@pytest.fixture
def meta(server: LiveServer) -> dict[str, Any]:
    return discover(server.url)


@pytest.fixture
def user(actions: Actions) -> Login:
    return actions.user()


@pytest.fixture
def browser(server: LiveServer, user: Login) -> Iterator[Browser]:
    with Browser(server.url, user) as signed_in:
        yield signed_in


@pytest.fixture
def authlib(meta: dict[str, Any]) -> Iterator[Callable[..., OAuth2Client]]:
    """``authlib(client_id, secret=None, **kwargs)``: Authlib's OAuth2Client for
    this server, closed after the test."""
    made: list[OAuth2Client] = []

    def make(
        client_id: str, client_secret: str | None = None, **kwargs: Any
    ) -> OAuth2Client:
        client = oauth_client(meta, client_id, client_secret, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with loopback_receiver() as listening:
        yield listening


@pytest.fixture
def public_client(actions: Actions, receiver: LoopbackReceiver) -> dict[str, Any]:
    """A native app: public, a loopback redirect URI, code and refresh grants."""
    return actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        grant_types=["authorization_code", "refresh_token"],
    )


@pytest.fixture
def start(
    meta: dict[str, Any], authlib: Callable[..., OAuth2Client]
) -> Callable[..., Any]:
    """``start(client_id, redirect_uri, **params)``: Authlib's client, its
    authorization URL and state, and the verifier it must send later."""

    def begin(
        client_id: str,
        redirect_uri: str,
        client_secret: str | None = None,
        **params: Any,
    ) -> Any:
        client = authlib(client_id, client_secret, redirect_uri=redirect_uri)
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, **params
        )
        return client, url, state, verifier

    return begin


@pytest.fixture
def approved_code(
    start: Callable[..., Any], receiver: LoopbackReceiver, browser: Browser
) -> Callable[..., Any]:
    """``approved_code(client_id, **params)``: (Authlib client, a code the user
    approved, its verifier)."""

    def approve(client_id: str, **params: Any) -> Any:
        client, url, _state, verifier = start(
            client_id, receiver.redirect_uri, **params
        )
        answer = query(browser.authorize(url))
        return client, answer["code"], verifier

    return approve


@pytest.fixture
def code_flow(
    start: Callable[..., Any], receiver: LoopbackReceiver, browser: Browser
) -> Callable[..., Any]:
    """``code_flow(client_id, secret=None, **params)``: the whole flow through
    Authlib; (its client, the token response)."""

    def run(client_id: str, client_secret: str | None = None, **params: Any) -> Any:
        client, url, _state, verifier = start(
            client_id, receiver.redirect_uri, client_secret, **params
        )
        location = browser.authorize(url)
        receiver.follow(location)
        token = client.fetch_token(
            authorization_response=receiver.received[-1], code_verifier=verifier
        )
        return client, token

    return run


@pytest.fixture
def host() -> Iterator[DocumentHost]:
    """A web server on loopback for client metadata documents."""
    with document_host() as serving:
        yield serving


__all__ = ["statuses_documented"]
