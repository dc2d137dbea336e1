"""PKCE (RFC 7636) as OAuth 2.1 requires it: for every client, S256 only."""

import httpx
import pytest
from authlib.common.security import generate_token

from tests.support.asserts import error
from tests.support.oauth import query


def test_missing_challenge_is_refused_at_the_redirect(
    server, meta, public_client, receiver, browser
):
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
def test_plain_method_is_refused(meta, public_client, receiver, browser, method):
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


def test_confidential_clients_need_pkce_too(actions, meta, receiver, browser):
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


def token_request(meta, client_id, code, redirect_uri, verifier):
    data = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return httpx.post(meta["token_endpoint"], data=data)


def test_missing_verifier_is_refused(meta, public_client, receiver, approved_code):
    client_id = public_client["client_id"]
    _client, code, _verifier = approved_code(client_id)
    response = token_request(meta, client_id, code, receiver.redirect_uri, None)
    error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "wrong",
    ["wrong", generate_token(48), "a" * 129],
    ids=["short", "another-verifier", "too-long"],
)
def test_wrong_verifier_is_refused(meta, public_client, receiver, approved_code, wrong):
    client_id = public_client["client_id"]
    _client, code, verifier = approved_code(client_id)
    response = token_request(meta, client_id, code, receiver.redirect_uri, wrong)
    error(response, 400, "invalid_grant")
    # A wrong guess does not use the code up: the real verifier still works.
    good = token_request(meta, client_id, code, receiver.redirect_uri, verifier)
    assert good.status_code == 200, good.text
