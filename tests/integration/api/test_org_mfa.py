"""An organization that requires a second factor (``require_mfa``) grants its
context only to members who have one (``domain/orgs.py`` ``meets_rule``,
``server/org_context.py``)."""

from typing import Any

import httpx
import pytest

from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.totp import enrol


def me(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def strict(actions: Actions, client: httpx.Client) -> tuple[dict[str, Any], Login]:
    """An org requiring a second factor, and a member without one whose
    default org it is."""
    owner = actions.user()
    org = actions.make_org(owner, "Strict")
    enrol(client, owner)
    member = actions.org_member(owner, org["slug"], "member")
    chosen = client.patch(
        "/api/v1/me", headers=member.bearer, json={"default_org": org["id"]}
    )
    assert chosen.json()["org_id"] == org["id"], chosen.text
    response = client.patch(
        f"/api/v1/orgs/{org['id']}", headers=owner.bearer, json={"require_mfa": True}
    )
    assert response.status_code == 200, response.text
    return org, member


def test_an_owner_without_a_factor_may_not_require_one(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner, "Lax")
    response = client.patch(
        f"/api/v1/orgs/{org['id']}", headers=owner.bearer, json={"require_mfa": True}
    )
    error(response, 409, "conflict")
    assert "second factor for yourself first" in response.json()["error_description"]


def test_a_member_without_a_factor_is_asked_to_enrol(
    client: httpx.Client, strict: tuple[dict[str, Any], Login]
) -> None:
    org, member = strict
    asked = {**member.bearer, "X-Organization-Id": org["slug"]}
    response = client.get("/api/v1/me", headers=asked)
    error(response, 403, "mfa_enrollment_required")
    assert "Settings → Security" in response.json()["error_description"]
    error(
        client.get(f"/api/v1/orgs/{org['id']}", headers=member.bearer),
        403,
        "mfa_enrollment_required",
    )
    # The default org is not applied, so the person can still set a factor up.
    assert me(client, member.bearer)["org_id"] is None
    key = client.post(
        "/api/v1/api-keys",
        headers=member.bearer,
        json={"name": "ci", "permission": "read", "org": org["id"]},
    )
    error(key, 403, "mfa_enrollment_required")


def test_once_enrolled_the_member_acts_in_the_org_at_once(
    client: httpx.Client, strict: tuple[dict[str, Any], Login]
) -> None:
    org, member = strict
    asked = {**member.bearer, "X-Organization-Id": org["slug"]}
    error(client.get("/api/v1/me", headers=asked), 403, "mfa_enrollment_required")
    enrol(client, member)
    assert me(client, asked)["org_id"] == org["id"]
    assert me(client, member.bearer)["org_id"] == org["id"]
    assert client.get(f"/api/v1/orgs/{org['id']}", headers=member.bearer).is_success


def test_no_token_is_bound_to_an_org_that_refuses_its_person(
    client: httpx.Client, strict: tuple[dict[str, Any], Login]
) -> None:
    org, member = strict
    response = client.post(
        "/api/v1/access-tokens",
        headers=member.bearer,
        json={"name": "bound", "expires_in_days": 7, "org": org["id"]},
    )
    error(response, 403, "mfa_enrollment_required")


def test_a_token_bound_before_the_rule_stops_working_under_it(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner, "Later")
    member = actions.org_member(owner, org["slug"], "member")
    made = client.post(
        "/api/v1/access-tokens",
        headers=member.bearer,
        json={"name": "bound", "expires_in_days": 7, "org": org["id"]},
    )
    assert made.status_code == 201, made.text
    pat = {"Authorization": f"Bearer {made.json()['token']}"}
    assert me(client, pat)["org_id"] == org["id"]
    enrol(client, owner)
    client.patch(
        f"/api/v1/orgs/{org['id']}", headers=owner.bearer, json={"require_mfa": True}
    ).raise_for_status()
    error(client.get("/api/v1/me", headers=pat), 403, "mfa_enrollment_required")
