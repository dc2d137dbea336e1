"""``authgate-cli``: the public client built into every server, which the CLI
signs in as. It works without registration, no registration or admin call can
obtain or remove its id, and a person approves each of its sign-ins."""

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from tests.support import db
from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.documents import DocumentHost, document
from tests.support.live import LiveServer
from tests.support.oauth import Browser, LoopbackReceiver, discover, oauth_client, query

CLI = "authgate-cli"
CLI_SCOPE = "openid profile read write"


def test_the_cli_client_needs_no_registration(
    code_flow: Callable[..., Any], database_url: str
) -> None:
    _client, token = code_flow(CLI, scope=CLI_SCOPE)
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == CLI
    assert token["refresh_token"]
    assert db.dump(database_url)["oauth_clients"] == []


def test_the_cli_client_may_not_ask_beyond_its_scopes(
    start: Callable[..., Any], receiver: LoopbackReceiver, browser: Browser
) -> None:
    """It has the person's full rights through its tokens, but only the scopes
    it is built with (never ``admin``)."""
    _client, url, _state, _verifier = start(
        CLI, receiver.redirect_uri, scope="openid read secret-scope"
    )
    answer = query(browser.authorize(url))
    assert answer["error"] == "invalid_scope"


def test_a_cli_sign_in_is_approved_every_time(
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    code_flow: Callable[..., Any],
) -> None:
    """Consent to an ordinary client is remembered; to the CLI, whose tokens
    act with the person's full rights, never: a login someone else started
    (a phished link) always meets the person's Approve button."""
    code_flow(CLI, scope=CLI_SCOPE)
    _client, url, _state, _verifier = start(CLI, receiver.redirect_uri, scope=CLI_SCOPE)
    again = browser.consent(url)
    assert "built in (Authgate CLI)" in again.text
    assert "Unverified application" not in again.text


def test_the_cli_client_on_any_loopback_port_and_host(
    meta: dict[str, Any], browser: Browser
) -> None:
    for redirect in ("http://127.0.0.1:51234/callback", "http://localhost:9/callback"):
        with oauth_client(meta, CLI, redirect_uri=redirect) as client:
            url, _state = client.create_authorization_url(
                meta["authorization_endpoint"], code_verifier="v" * 43, scope="read"
            )
        assert browser.open(url).status_code == 200  # the consent page
    with oauth_client(meta, CLI, redirect_uri="https://evil.example/callback") as c:
        url, _state = c.create_authorization_url(
            meta["authorization_endpoint"], code_verifier="v" * 43, scope="read"
        )
    refused = browser.open(url)
    assert refused.status_code == 400
    assert "redirect_uri" in refused.text


def test_registration_cannot_take_the_cli_id(
    meta: dict[str, Any],
    browser: Browser,
    receiver: LoopbackReceiver,
    start: Callable[..., Any],
) -> None:
    """RFC 7591 §3.2.1: the server assigns the id; one in the body is ignored."""
    response = httpx.post(
        meta["registration_endpoint"],
        json={
            "client_id": CLI,
            "client_name": "Authgate CLI",
            "redirect_uris": [receiver.registered],
            "token_endpoint_auth_method": "none",
        },
    )
    assert response.status_code == 201, response.text
    registered = response.json()["client_id"]
    assert registered.startswith("cl_")
    # The impostor is shown for what it is, and the CLI id is still the CLI.
    _c, url, _s, _v = start(registered, receiver.redirect_uri, scope="read")
    impostor = browser.consent(url)
    assert "Unverified application" in impostor.text
    assert "registered dynamically from 127.0.0.1" in impostor.text
    _c, url, _s, _v = start(CLI, receiver.redirect_uri, scope="read")
    assert "built in (Authgate CLI)" in browser.consent(url).text


@pytest.fixture
def trusting_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(client_metadata_allow_insecure_loopback=True)


def test_a_metadata_document_cannot_claim_the_cli_id(
    trusting_server: LiveServer,
    host: DocumentHost,
    receiver: LoopbackReceiver,
    actions: Actions,
) -> None:
    """A document's ``client_id`` must be its own URL, so naming the CLI's id
    in it is refused, and no URL is ``authgate-cli``."""
    url = host.url("/authgate-cli")
    host.serve(
        "/authgate-cli", {**document(url, receiver.registered), "client_id": CLI}
    )
    meta = discover(trusting_server.url)
    with trusting_server.client() as http:
        user = Actions(http).user()
    with (
        oauth_client(meta, url, redirect_uri=receiver.redirect_uri) as client,
        Browser(trusting_server.url, user) as browser,
    ):
        authorize_url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier="v" * 43, scope="read"
        )
        refused = browser.open(authorize_url)
    assert refused.status_code == 400
    assert "Authgate CLI" not in refused.text


def test_admins_see_the_cli_client_and_cannot_delete_it(
    actions: Actions, code_flow: Callable[..., Any]
) -> None:
    admin = actions.admin()
    listed = actions.client.get("/api/v1/admin/clients", headers=admin.bearer)
    [cli] = [i for i in listed.json()["items"] if i["client_id"] == CLI]
    assert cli["registration"] == "builtin"
    assert cli["public"] is True
    deleted = actions.client.delete(
        f"/api/v1/admin/clients/{CLI}", headers=admin.bearer
    )
    error(deleted, 409, "conflict")
    _client, token = code_flow(CLI, scope=CLI_SCOPE)  # still there
    assert token["access_token"]
