"""Tokens used in an org context carry the org and the caller's role there
(``org``, ``roles``), so other apps can check roles; introspection answers the
same, live for PATs and API keys."""

from typing import Any

import httpx
import jwt

from tests.support.actions import PASSWORD, Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import discover


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def login_in(actions: Actions, user: Login, org: str | None) -> httpx.Response:
    headers = {"X-Organization-Id": org} if org else {}
    return actions.client.post(
        "/api/v1/auth/login",
        json={"username": user.username, "password": PASSWORD},
        headers=headers,
    )


def test_a_login_in_an_org_carries_the_org_and_the_role(actions: Actions) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    member = actions.org_member(owner, org["id"])
    signed_in = login_in(actions, member, org["slug"])  # a slug is fine too
    assert signed_in.status_code == 200, signed_in.text
    got = claims(signed_in.json()["access_token"])
    assert got["org"] == org["id"]
    assert got["roles"] == ["member"]
    assert claims(login_in(actions, owner, org["id"]).json()["access_token"])[
        "roles"
    ] == ["owner"]
    # Without the header: no org, no roles.
    plain = claims(login_in(actions, member, None).json()["access_token"])
    assert "org" not in plain
    assert "roles" not in plain


def test_a_refresh_in_an_org_carries_it_too(actions: Actions) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    refreshed = actions.client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": owner.refresh_token},
        headers={"X-Organization-Id": org["id"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    assert claims(refreshed.json()["access_token"])["roles"] == ["owner"]


def test_no_token_for_an_org_one_is_not_in(actions: Actions) -> None:
    """Refused like a wrong org anywhere else: 404, whether or not it exists;
    the refresh token presented stays the live one."""
    owner, stranger = actions.user(), actions.user()
    org = actions.make_org(owner)
    for ref in (org["id"], "no-such-org", "' OR 1=1 --"):
        error(login_in(actions, stranger, ref), 404, "not_found")
    error(login_in(actions, stranger, "x" * 300), 400, "invalid_request")
    refused = actions.client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": stranger.refresh_token},
        headers={"X-Organization-Id": org["id"]},
    )
    error(refused, 404, "not_found")
    again = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": stranger.refresh_token}
    )
    assert again.status_code == 200, again.text


def test_a_first_party_token_still_acts_in_any_of_the_persons_orgs(
    actions: Actions,
) -> None:
    """The org in a sign-in's token is for other apps: in Authgate the person
    keeps their full rights and picks an org per request."""
    owner = actions.user()
    first, second = actions.make_org(owner), actions.make_org(owner)
    token = login_in(actions, owner, first["id"]).json()["access_token"]
    me = actions.client.get(
        "/api/v1/me",
        headers={**actions.bearer(token), "X-Organization-Id": second["id"]},
    )
    assert me.status_code == 200, me.text
    assert me.json()["org_id"] == second["id"]


def introspect(server_url: str, actions: Actions, token: str) -> dict[str, Any]:
    made = actions.make_client(grant_types=["client_credentials"])
    response = httpx.post(
        discover(server_url)["introspection_endpoint"],
        data={"token": token},
        auth=(made["client_id"], made["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_introspection_of_org_bound_credentials(
    server: LiveServer, actions: Actions
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    admin = actions.org_member(owner, org["id"], role="admin")
    pat = actions.make_pat(admin, org=org["id"])
    answer = introspect(server.url, actions, pat["token"])
    assert answer["active"] is True
    assert answer["org"] == org["id"]
    assert answer["roles"] == ["admin"]
    key = actions.make_key(admin, org=org["id"], permission="write")
    answer = introspect(server.url, actions, key["token"])
    assert (answer["org"], answer["roles"]) == (org["id"], ["admin"])
    # A read-only key acts as a viewer, as it does in Authgate itself.
    reader = actions.make_key(admin, org=org["id"], permission="read")
    assert introspect(server.url, actions, reader["token"])["roles"] == ["viewer"]
    # Looked up live: a role change shows at once ...
    members = f"/api/v1/orgs/{org['id']}/members"
    me = actions.client.get("/api/v1/me", headers=admin.bearer).json()
    changed = actions.client.patch(
        f"{members}/{me['id']}", json={"role": "member"}, headers=owner.bearer
    )
    assert changed.status_code == 200, changed.text
    assert introspect(server.url, actions, pat["token"])["roles"] == ["member"]
    # ... and a credential whose user left the org works nowhere.
    removed = actions.client.delete(f"{members}/{me['id']}", headers=owner.bearer)
    assert removed.status_code == 204, removed.text
    assert introspect(server.url, actions, pat["token"]) == {"active": False}


def test_introspection_of_a_jwt_in_an_org(server: LiveServer, actions: Actions) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    token = login_in(actions, owner, org["id"]).json()["access_token"]
    answer = introspect(server.url, actions, token)
    assert (answer["org"], answer["roles"]) == (org["id"], ["owner"])
