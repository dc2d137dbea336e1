"""What the authorization endpoint asks of the signed-in person's sign-in
(OIDC Core §3.1.2.1 ``prompt``, ``max_age``, ``acr_values``), and the way
back once they have proved it again."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from authgate.domain.assurance import Authentication
from authgate.domain.clients import CLI_CLIENT
from authgate.oauth import authorize
from authgate.oauth.authorize import AuthorizationRequest, Reauthenticate
from authgate.oauth.server import Server

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SERVER = cast(Server, type("S", (), {"issuer": "https://auth.example"})())
PASSWORD = Authentication(NOW - timedelta(minutes=5), ("pwd",))
TWO = Authentication(NOW - timedelta(minutes=5), ("mfa", "otp", "pwd"))


def request(**fields: Any) -> AuthorizationRequest:
    return AuthorizationRequest(
        client=CLI_CLIENT,
        redirect_uri="http://127.0.0.1/callback",
        redirect_uri_given=True,
        scopes=("openid",),
        resources=(),
        code_challenge="x" * 43,
        state="st",
        **fields,
    )


def needed(
    req: AuthorizationRequest, proof: Authentication = PASSWORD, factor: bool = False
) -> Reauthenticate | str | None:
    return authorize.authentication_needed(
        SERVER, req, proof, has_factor=factor, now=NOW
    )


def error_of(answer: object) -> str:
    assert isinstance(answer, str)
    return parse_qs(urlsplit(answer).query)["error"][0]


def test_nothing_asked_nothing_needed() -> None:
    assert needed(request()) is None


def test_prompt_login_always_asks() -> None:
    assert needed(request(prompt=("login",))) == Reauthenticate(None)
    assert needed(request(prompt=("none", "login"))) is not None
    assert error_of(needed(request(prompt=("none", "login")))) == "login_required"


def test_max_age_asks_only_when_older() -> None:
    assert needed(request(max_age=300)) is None
    assert needed(request(max_age=299)) == Reauthenticate(None)
    assert error_of(needed(request(max_age=299, prompt=("none",)))) == (
        "login_required"
    )


def test_acr_values_takes_the_weakest_level_offered() -> None:
    assert request(acr_values=("aal2", "aal1")).level == "aal1"
    assert request(acr_values=("urn:other", "aal2")).level == "aal2"
    assert request(acr_values=("urn:other",)).level is None


def test_aal2_with_a_factor_asks_for_it_without_one_is_unmet() -> None:
    req = request(acr_values=("aal2",))
    assert needed(req, TWO) is None
    assert needed(req, factor=True) == Reauthenticate("aal2")
    assert error_of(needed(req)) == "unmet_authentication_requirements"


def test_the_way_back_drops_what_the_sign_in_answered() -> None:
    pairs = [
        ("client_id", "c"),
        ("prompt", "login consent"),
        ("max_age", "0"),
        ("acr_values", "aal2"),
        ("resource", "a"),
        ("resource", "b"),
    ]
    assert authorize.continuation(pairs) == [
        ("client_id", "c"),
        ("prompt", "consent"),
        ("acr_values", "aal2"),
        ("resource", "a"),
        ("resource", "b"),
    ]
    assert authorize.continuation([("prompt", "login")]) == []
