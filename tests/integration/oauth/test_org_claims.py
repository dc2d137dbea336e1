"""OAuth tokens act in the person's default org: they carry it and the
person's role there (``org``, ``roles``), looked up at each issuance, and a
client's token acts in no other org."""

from collections.abc import Callable
from typing import Any

import jwt

from tests.support.actions import Actions, Login


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_an_oauth_token_carries_the_default_org_and_role(
    actions: Actions,
    user: Login,
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
) -> None:
    org = actions.make_org(user)  # the first org becomes the default one
    client, token = code_flow(public_client["client_id"], scope="openid read write")
    got = claims(token["access_token"])
    assert (got["org"], got["roles"]) == (org["id"], ["owner"])
    # The client acts in that org only.
    other = actions.make_org(user)
    bearer = actions.bearer(token["access_token"])
    assert (
        actions.client.get("/api/v1/me", headers=bearer).json()["org_id"] == org["id"]
    )
    refused = actions.client.get(
        "/api/v1/me", headers={**bearer, "X-Organization-Id": other["id"]}
    )
    assert refused.status_code == 403
    # A refresh picks up the org as it is now.
    changed = actions.client.patch(
        "/api/v1/me", json={"default_org": other["id"]}, headers=user.bearer
    )
    assert changed.status_code == 200, changed.text
    refreshed = client.refresh_token(refresh_token=token["refresh_token"])
    assert claims(refreshed["access_token"])["org"] == other["id"]


def test_a_read_only_oauth_token_acts_as_a_viewer(
    actions: Actions,
    user: Login,
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
) -> None:
    actions.make_org(user)
    _client, token = code_flow(public_client["client_id"], scope="openid read")
    assert claims(token["access_token"])["roles"] == ["viewer"]


def test_no_org_no_claims(
    public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    _client, token = code_flow(public_client["client_id"], scope="read")
    got = claims(token["access_token"])
    assert "org" not in got
    assert "roles" not in got
