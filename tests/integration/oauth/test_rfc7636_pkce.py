"""PKCE (RFC 7636) as OAuth 2.1 requires it: for every client, S256 only."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token

from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import Browser, LoopbackReceiver, query


def test_missing_challenge_is_refused_at_the_redirect(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
) -> None:
    url = httpx.URL(
        meta["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": public_client["client_id"],
            "redirect_uri": receiver.redirect_uri,
            "state": "s1",
        },
    )
    answer = query(browser.open(str(url)).headers["location"])
    assert answer["error"] == "invalid_request"
    assert "PKCE" in answer["error_description"]
    assert answer["state"] == "s1"
    assert answer["iss"] == server.url


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_method_is_refused(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    method: str | None,
) -> None:
    verifier = generate_token(48)
    params = {
        "response_type": "code",
        "client_id": public_client["client_id"],
        "redirect_uri": receiver.redirect_uri,
        "code_challenge": verifier,
    }
    if method:
        params["code_challenge_method"] = method
    url = httpx.URL(meta["authorization_endpoint"], params=params)
    answer = query(browser.open(str(url)).headers["location"])
    assert answer["error"] == "invalid_request"
    assert "S256" in answer["error_description"]


def test_confidential_clients_need_pkce_too(
    actions: Actions, meta: dict[str, Any], receiver: LoopbackReceiver, browser: Browser
) -> None:
    confidential = actions.make_client(redirect_uris=[receiver.registered])
    url = httpx.URL(
        meta["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": confidential["client_id"],
            "redirect_uri": receiver.redirect_uri,
        },
    )
    assert query(browser.open(str(url)).headers["location"])["error"] == (
        "invalid_request"
    )


def token_request(
    meta: dict[str, Any],
    client_id: str,
    code: str,
    redirect_uri: str,
    verifier: str | None,
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return httpx.post(meta["token_endpoint"], data=data)


def test_missing_verifier_is_refused(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    approved_code: Callable[..., Any],
) -> None:
    client_id = public_client["client_id"]
    _client, code, _verifier = approved_code(client_id)
    response = token_request(meta, client_id, code, receiver.redirect_uri, None)
    error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "wrong",
    ["wrong", generate_token(48), "a" * 129],
    ids=["short", "another-verifier", "too-long"],
)
def test_wrong_verifier_is_refused(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    approved_code: Callable[..., Any],
    wrong: str,
) -> None:
    client_id = public_client["client_id"]
    _client, code, verifier = approved_code(client_id)
    response = token_request(meta, client_id, code, receiver.redirect_uri, wrong)
    error(response, 400, "invalid_grant")
    # A wrong guess does not use the code up: the real verifier still works.
    good = token_request(meta, client_id, code, receiver.redirect_uri, verifier)
    assert good.status_code == 200, good.text
