"""Client ID Metadata Documents (the MCP authorization spec's client
identification): a ``client_id`` that is a URL names a JSON document the
client hosts.

The documents here are served by a test server on loopback over plain http,
which the server fetches only because ``client_metadata_allow_insecure_loopback``
is on. The fetcher's refusals: ``test_client_metadata_fetcher.py``.
"""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token

from tests.support.actions import Actions
from tests.support.documents import DocumentHost, document
from tests.support.live import LiveServer
from tests.support.oauth import Browser, LoopbackReceiver, discover, oauth_client


@pytest.fixture
def trusting_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(client_metadata_allow_insecure_loopback=True)


def test_code_flow_with_a_metadata_document(
    trusting_server: LiveServer,
    host: DocumentHost,
    receiver: LoopbackReceiver,
    user_login: Callable[[Any], Any],
) -> None:
    url = host.url("/client.json")
    host.serve("/client.json", document(url, receiver.registered))
    meta = discover(trusting_server.url)
    with (
        oauth_client(meta, url, redirect_uri=receiver.redirect_uri) as client,
        Browser(trusting_server.url, user_login(trusting_server)) as browser,
    ):
        verifier = generate_token(48)
        authorize_url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, scope="read"
        )
        consent = browser.consent(authorize_url)
        assert "Example MCP Client" in consent.text
        assert f"127.0.0.1:{host.port}" in consent.text  # where it comes from
        location = browser.decide(consent, "approve").headers["location"]
        assert receiver.follow(location)["state"] == state
        token = client.fetch_token(
            authorization_response=receiver.received[-1], code_verifier=verifier
        )
        assert token["access_token"]
        refreshed = client.refresh_token(refresh_token=token["refresh_token"])
        assert refreshed["access_token"]
    # Fetched once, then served from the cache.
    assert host.hits.count("/client.json") == 1


@pytest.fixture
def user_login() -> Callable[[Any], Any]:
    """``user_login(server)``: a new signed-in user of that server."""

    def login(server: Any) -> Any:
        with server.client() as http:
            return Actions(http).user()

    return login


def test_insecure_loopback_documents_need_the_test_setting(
    server: LiveServer, host: DocumentHost, receiver: LoopbackReceiver, browser: Browser
) -> None:
    url = host.serve(
        "/client.json", document(host.url("/client.json"), receiver.registered)
    )
    authorize = httpx.URL(
        f"{server.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": url,
            "redirect_uri": receiver.redirect_uri,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    page = browser.open(str(authorize))
    assert page.status_code == 400
    assert "https" in page.text
    assert host.hits == []


def test_redirect_uri_not_in_the_document(
    trusting_server: LiveServer,
    host: DocumentHost,
    receiver: LoopbackReceiver,
    user_login: Callable[[Any], Any],
) -> None:
    url = host.url("/client.json")
    host.serve("/client.json", document(url, "http://127.0.0.1/other"))
    authorize = httpx.URL(
        f"{trusting_server.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": url,
            "redirect_uri": receiver.redirect_uri,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    with Browser(trusting_server.url, user_login(trusting_server)) as browser:
        page = browser.open(str(authorize))
    assert page.status_code == 400
    assert "location" not in page.headers
