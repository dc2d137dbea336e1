"""Which provider serves web sign-in (``AUTHGATE_AUTH_PROVIDER`` or detected),
and Settings refusing a half-configured one, naming what is missing."""

from typing import Any

import pytest
from pydantic import ValidationError

from authgate import upstream
from authgate.config import Settings
from authgate.upstream.oidc import OidcProvider
from authgate.upstream.workos import WorkOSProvider

WORKOS = {"workos_client_id": "client_123", "workos_api_key": "sk_test_123"}
OIDC = {"oidc_issuer_url": "https://id.example.com/realms/x", "oidc_client_id": "ag"}


pytestmark = pytest.mark.usefixtures("clean_environment")


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "none"),
        (WORKOS, "workos"),
        (OIDC, "oidc"),
        ({**WORKOS, **OIDC}, "workos"),  # both configured: WorkOS first
        ({**WORKOS, **OIDC, "auth_provider": "oidc"}, "oidc"),
        ({**WORKOS, **OIDC, "auth_provider": "workos"}, "workos"),
        ({**OIDC, "auth_provider": ""}, "oidc"),  # empty means detect
        ({**WORKOS, "auth_provider": " "}, "workos"),
    ],
)
def test_selection(values: dict[str, str], expected: str) -> None:
    assert upstream.select(make(**values)) == expected


def test_selection_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_WORKOS_CLIENT_ID", "client_123")
    monkeypatch.setenv("AUTHGATE_WORKOS_API_KEY", "sk_test_123")
    monkeypatch.setenv("AUTHGATE_OIDC_ISSUER_URL", OIDC["oidc_issuer_url"])
    monkeypatch.setenv("AUTHGATE_OIDC_CLIENT_ID", "ag")
    monkeypatch.setenv("AUTHGATE_AUTH_PROVIDER", "")
    assert upstream.select(make()) == "workos"
    monkeypatch.setenv("AUTHGATE_AUTH_PROVIDER", "oidc")
    assert upstream.select(make()) == "oidc"


def test_create_builds_the_selected_provider() -> None:
    assert upstream.create(make()) is None
    workos = upstream.create(make(**WORKOS, workos_api_base_url="http://127.0.0.1:9"))
    assert isinstance(workos, WorkOSProvider)
    assert workos.api_base_url == "http://127.0.0.1:9"
    oidc = upstream.create(make(**OIDC))
    assert isinstance(oidc, OidcProvider)
    assert oidc.issuer == "https://id.example.com/realms/x"
    assert oidc.label == "id.example.com"
    named = upstream.create(make(**OIDC, oidc_display_name="Keycloak"))
    assert named is not None
    assert named.label == "Keycloak"


def test_redirect_uris_default_to_the_callback() -> None:
    assert (
        upstream.redirect_uri(make(**OIDC, public_url="https://auth.example.com/"))
        == "https://auth.example.com/auth/callback"
    )
    assert (
        upstream.redirect_uri(make(**WORKOS, port=9000))
        == "http://127.0.0.1:9000/auth/callback"
    )
    assert (
        upstream.redirect_uri(
            make(**WORKOS, workos_redirect_uri="https://app.example.com/cb")
        )
        == "https://app.example.com/cb"
    )
    assert (
        upstream.redirect_uri(
            make(**OIDC, oidc_redirect_uri="https://app.example.com/oidc")
        )
        == "https://app.example.com/oidc"
    )


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"workos_client_id": "client_123"}, "AUTHGATE_WORKOS_API_KEY"),
        ({"workos_api_key": "sk_test_123"}, "AUTHGATE_WORKOS_CLIENT_ID"),
        ({"oidc_issuer_url": "https://id.example.com"}, "AUTHGATE_OIDC_CLIENT_ID"),
        ({"oidc_client_id": "ag"}, "AUTHGATE_OIDC_ISSUER_URL"),
        ({"oidc_client_secret": "s3cret"}, "AUTHGATE_OIDC_ISSUER_URL"),
        ({"auth_provider": "oidc"}, "AUTHGATE_OIDC_ISSUER_URL"),
        ({"auth_provider": "oidc", **WORKOS}, "AUTHGATE_OIDC_CLIENT_ID"),
        ({"auth_provider": "workos", **OIDC}, "AUTHGATE_WORKOS_API_KEY"),
    ],
)
def test_a_half_configured_provider_is_refused(
    values: dict[str, str], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        make(**values)


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ValidationError, match="auth_provider"):
        make(auth_provider="github")


@pytest.mark.parametrize(
    "values",
    [
        {**OIDC, "oidc_issuer_url": "http://id.example.com"},
        {**WORKOS, "workos_api_base_url": "http://workos.example.com"},
        {**OIDC, "oidc_scopes": "email profile"},
        {**OIDC, "oidc_redirect_uri": "/auth/callback"},
        {"signin_allowed_emails": "not-an-address"},
    ],
)
def test_unsafe_or_malformed_values_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        make(**values)


def test_plain_http_is_accepted_on_loopback() -> None:
    settings = make(
        **{**OIDC, "oidc_issuer_url": "http://127.0.0.1:8080/realms/dev"},
    )
    assert upstream.select(settings) == "oidc"


def test_dev_login_settings_build_on_any_host() -> None:
    # Not refused: on a non-loopback bind the dev-login route simply does not
    # exist (see tests/integration/upstream/test_dev_login.py).
    settings = make(host="0.0.0.0", dev_login_enabled=True)  # noqa: S104
    assert settings.dev_login_enabled is True
