"""Redirect-URI rules (OAuth 2.1 §2.3.1, RFC 8252 §7-8) and client secrets."""

import pytest

from authgate.domain import clients
from authgate.domain.clients import redirect_kind, redirect_uri_matches
from authgate.errors import InvalidClientMetadata, InvalidRedirectUri
from authgate.util import tokens


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("https://app.example.com/cb", "https"),
        ("http://127.0.0.1/cb", "loopback"),
        ("http://127.0.0.1:8080/cb", "loopback"),
        ("http://[::1]/cb", "loopback"),
        ("http://localhost:3000/cb", "loopback"),
        ("com.example.app:/oauth2redirect", "private_use"),
    ],
)
def test_accepted_redirect_uris(uri, kind):
    assert redirect_kind(uri) == kind


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "/relative",
        "http://app.example.com/cb",  # http off loopback
        "https://app.example.com/cb#fragment",
        "https://*.example.com/cb",
        "https://app.example.com/*",
        "https://user:pw@app.example.com/cb",
        "javascript:alert(1)",
        "data:text/html,hi",
        "myapp://callback",  # not reverse-domain
        "HTTPS://app.example.com/cb",
        "https://app.example.com/c b",
        "https://app.example.com:99999/cb",
    ],
)
def test_refused_redirect_uris(uri):
    with pytest.raises(InvalidRedirectUri):
        redirect_kind(uri)


@pytest.mark.parametrize(
    ("registered", "presented", "matches"),
    [
        ("https://app.example.com/cb", "https://app.example.com/cb", True),
        ("https://app.example.com/cb", "https://app.example.com/cb/", False),
        ("https://app.example.com/cb", "https://app.example.com/cb/x", False),
        ("https://app.example.com/cb", "https://app.example.com:443/cb", False),
        ("https://app.example.com/cb", "https://app.example.com/cb?x=1", False),
        ("https://app.example.com/cb", "https://APP.example.com/cb", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb", True),
        ("http://127.0.0.1:8000/cb", "http://127.0.0.1:51000/cb", True),
        ("http://[::1]/cb", "http://[::1]:51000/cb", True),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb/x", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb?x=1", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:51000/cb#x", False),
        ("http://127.0.0.1/cb", "http://localhost:51000/cb", False),
        ("http://127.0.0.1/cb", "https://127.0.0.1:51000/cb", False),
        ("http://127.0.0.1/cb?a=1", "http://127.0.0.1:5/cb?a=1", True),
    ],
)
def test_matching(registered, presented, matches):
    assert redirect_uri_matches(registered, presented) is matches


def test_grant_types_and_defaults():
    assert clients.check_grant_types(["device_code"], public=True) == (
        clients.DEVICE_CODE,
    )
    with pytest.raises(InvalidClientMetadata):
        clients.check_grant_types(["client_credentials"], public=True)
    with pytest.raises(InvalidClientMetadata):
        clients.check_grant_types(["refresh_token"], public=False)
    with pytest.raises(InvalidClientMetadata):
        clients.check_grant_types(["implicit"], public=False)
    assert clients.default_grant_types(public=False, redirect_uris=()) == [
        clients.CLIENT_CREDENTIALS
    ]


def test_secret_comparison():
    secret = tokens.mint("ag", "cs")
    client = clients.Client(
        id="cl_1",
        name="x",
        redirect_uris=(),
        grant_types=(clients.CLIENT_CREDENTIALS,),
        auth_method="client_secret_basic",
        created_at=None,  # type: ignore[arg-type]
        secret_hash=tokens.digest(secret),
    )
    assert clients.secret_matches(client, secret)
    assert not clients.secret_matches(client, secret + "x")
    assert not clients.secret_matches(None, secret)
