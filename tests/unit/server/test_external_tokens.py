"""Whose identity links an external issuer's subjects are: the web sign-in
provider's only when the issuer is that provider, so one issuer's subjects can
never name the accounts another provider linked."""

from typing import Any

import pytest

from authgate.config import Settings
from authgate.server.external_tokens import OWN_LINKS, link_provider

ISSUER = "https://login.example.com"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def oidc(issuer_url: str) -> dict[str, str]:
    return {"oidc_issuer_url": issuer_url, "oidc_client_id": "authgate"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({**oidc(ISSUER)}, "oidc", id="the-oidc-provider"),
        pytest.param({**oidc(ISSUER + "/")}, "oidc", id="trailing-slash"),
        pytest.param({**oidc("https://other.example.com")}, OWN_LINKS, id="another"),
        pytest.param({}, OWN_LINKS, id="no-provider"),
    ],
)
def test_oidc_links_only_for_the_same_issuer(
    values: dict[str, str], expected: str
) -> None:
    assert link_provider(settings(api_oauth_issuer=ISSUER, **values)) == expected


def test_workos_links_for_workos_tokens() -> None:
    workos = {
        "workos_client_id": "client_1",
        "workos_api_key": "sk_test_1",
        "workos_api_base_url": "https://api.workos.com",
    }
    issuer = "https://api.workos.com/user_management/client_1"
    assert link_provider(settings(api_oauth_issuer=issuer, **workos)) == "workos"
    assert link_provider(settings(api_oauth_issuer=ISSUER, **workos)) == OWN_LINKS
