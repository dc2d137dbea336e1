import base64

import pytest

from authgate.oauth.client_auth import presented
from authgate.oauth.errors import InvalidClient, InvalidRequest
from authgate.oauth.requests import OAuthRequest


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_credentials_are_form_urldecoded() -> None:
    # RFC 6749 §2.3.1: each part is application/x-www-form-urlencoded first.
    request = OAuthRequest(authorization=basic("cl%3Aa", "s%2Bb+c"))
    creds = presented(request)
    assert (creds.client_id, creds.secret, creds.method) == (
        "cl:a",
        "s+b c",
        "client_secret_basic",
    )


def test_post_and_none() -> None:
    post = presented(
        OAuthRequest.from_pairs([("client_id", "cl"), ("client_secret", "s")])
    )
    assert post.method == "client_secret_post"
    public = presented(OAuthRequest.from_pairs([("client_id", "cl")]))
    assert (public.secret, public.method) == (None, "none")


def test_two_methods_at_once_are_refused() -> None:
    request = OAuthRequest.from_pairs(
        [("client_secret", "s")], authorization=basic("cl", "s")
    )
    with pytest.raises(InvalidRequest):
        presented(request)
    mismatch = OAuthRequest.from_pairs(
        [("client_id", "other")], authorization=basic("cl", "s")
    )
    with pytest.raises(InvalidRequest):
        presented(mismatch)


@pytest.mark.parametrize(
    "header", ["Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()]
)
def test_malformed_basic_gets_a_challenge(header: str) -> None:
    with pytest.raises(InvalidClient) as refused:
        presented(OAuthRequest(authorization=header))
    assert refused.value.headers["WWW-Authenticate"].startswith("Basic")


def test_repeated_parameters_are_refused_but_resource_may_repeat() -> None:
    request = OAuthRequest.from_pairs(
        [("scope", "a"), ("scope", "b"), ("resource", "x"), ("resource", "y")]
    )
    with pytest.raises(InvalidRequest, match="more than once"):
        request.get("scope")
    assert request.all("resource") == ("x", "y")
    assert OAuthRequest.from_pairs([("state", "")]).get("state") is None
