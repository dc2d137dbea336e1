"""Everything the authorization server changes is audited, and no secret ends
up in the log."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.support.actions import Actions
from tests.support.oauth import DEVICE_GRANT, Browser, audit_events


def test_the_flows_leave_a_trail(
    meta: dict[str, Any],
    actions: Actions,
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    browser: Browser,
    database_url: str,
) -> None:
    client, token = code_flow(public_client["client_id"])
    second = client.refresh_token(refresh_token=token["refresh_token"])
    with pytest.raises(OAuthError):
        client.refresh_token(refresh_token=token["refresh_token"])  # reuse
    client.revoke_token(meta["revocation_endpoint"], token=second["access_token"])

    device = actions.make_client(public=True, grant_types=["device_code"])
    for decision in ("approve", "deny"):
        started = httpx.post(
            meta["device_authorization_endpoint"],
            data={"client_id": device["client_id"]},
        ).json()
        browser.decide_device(started["user_code"], decision)

    events = audit_events(database_url)
    actions_seen = {e["action"] for e in events}
    assert {
        "oauth_client.registered",
        "oauth.consent_granted",
        "oauth.code_issued",
        "oauth.code_redeemed",
        "refresh_token.reused",
        "oauth.token_revoked",
        "oauth.device_approved",
        "oauth.device_denied",
    } <= actions_seen
    log = str(events)
    for secret in (
        token["access_token"],
        token["refresh_token"],
        second["refresh_token"],
        started["device_code"],
        started["user_code"],
    ):
        assert secret not in log


def test_device_redemption_is_audited(
    meta: dict[str, Any],
    actions: Actions,
    browser: Browser,
    authlib: Callable[..., OAuth2Client],
    database_url: str,
) -> None:
    device = actions.make_client(public=True, grant_types=["device_code"])
    started = httpx.post(
        meta["device_authorization_endpoint"], data={"client_id": device["client_id"]}
    ).json()
    browser.decide_device(started["user_code"])
    authlib(device["client_id"]).fetch_token(
        grant_type=DEVICE_GRANT, device_code=started["device_code"]
    )
    assert "oauth.device_code_redeemed" in {
        e["action"] for e in audit_events(database_url)
    }
