"""Isolation (IDOR): what belongs to one organization or one person is out of
reach for everyone else, whichever id, slug or header they send. A foreign
org answers exactly like one that does not exist (404), a foreign org in
``X-Organization-Id`` is refused (403), and another person's tokens, keys and
sessions are "not found"."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.actions import Actions, Login, random_email
from tests.support.asserts import error
from tests.support.live import LiveServer


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(rate_limit_enabled=False)


@dataclass(frozen=True)
class Orgs:
    alice: Login  # owner of A
    bob: Login  # owner of B
    carol: Login  # member of B
    a: dict[str, Any]
    b: dict[str, Any]
    bob_id: str
    b_invite: str


def me(client: httpx.Client, login: Login) -> dict[str, Any]:
    return dict(client.get("/api/v1/me", headers=login.bearer).json())


@pytest.fixture
def two(actions: Actions, client: httpx.Client) -> Orgs:
    alice, bob = actions.user(), actions.user()
    a = actions.make_org(alice, "Alpha Works")
    b = actions.make_org(bob, "Bravo Secret Labs")
    carol = actions.org_member(bob, b["id"], "member")
    invite = actions.org_invite(bob, b["id"], random_email(), "admin")
    return Orgs(alice, bob, carol, a, b, me(client, bob)["id"], invite["id"])


def org_calls(ref: str, o: Orgs) -> list[tuple[str, str, Any]]:
    """Every org-scoped endpoint, aimed at the org ``ref``."""
    return [
        ("GET", f"/api/v1/orgs/{ref}", None),
        ("PATCH", f"/api/v1/orgs/{ref}", {"name": "pwned", "slug": "pwned"}),
        ("DELETE", f"/api/v1/orgs/{ref}", None),
        ("GET", f"/api/v1/orgs/{ref}/members", None),
        ("PATCH", f"/api/v1/orgs/{ref}/members/{o.bob_id}", {"role": "viewer"}),
        ("DELETE", f"/api/v1/orgs/{ref}/members/{o.bob_id}", None),
        (
            "POST",
            f"/api/v1/orgs/{ref}/invites",
            {"email": "x@evil.test", "role": "owner"},
        ),
        ("GET", f"/api/v1/orgs/{ref}/invites", None),
        ("DELETE", f"/api/v1/orgs/{ref}/invites/{o.b_invite}", None),
        ("GET", f"/api/v1/orgs/{ref}/audit", None),
        ("POST", "/api/v1/api-keys", {"name": "k", "permission": "write", "org": ref}),
        (
            "POST",
            "/api/v1/access-tokens",
            {"name": "t", "expires_in_days": 1, "org": ref},
        ),
        ("PATCH", "/api/v1/me", {"default_org": ref}),
    ]


def secrets_of_b(o: Orgs) -> list[str]:
    return [o.b["name"], o.bob.username, o.carol.username, "@example.com"]


def assert_b_untouched(client: httpx.Client, o: Orgs) -> None:
    base = f"/api/v1/orgs/{o.b['id']}"
    org = client.get(base, headers=o.bob.bearer).json()
    assert (org["name"], org["slug"]) == (o.b["name"], o.b["slug"])
    members = client.get(f"{base}/members", headers=o.bob.bearer).json()["items"]
    assert {m["username"]: m["role"] for m in members} == {
        o.bob.username: "owner",
        o.carol.username: "member",
    }
    invites = client.get(f"{base}/invites", headers=o.bob.bearer).json()["items"]
    # Bob's invite is still pending, and no one else's was added.
    assert [i["id"] for i in invites if i["status"] == "unused"] == [o.b_invite]


def test_a_member_of_one_org_reaches_nothing_of_another(
    actions: Actions, client: httpx.Client, two: Orgs
) -> None:
    o = two
    credentials = {
        "jwt": o.alice.bearer,
        "pat": Actions.bearer(actions.make_pat(o.alice)["token"]),
        "key": Actions.bearer(actions.make_key(o.alice, permission="write")["token"]),
    }
    for kind, headers in credentials.items():
        for by in ("id", "slug"):
            ref = o.b[by]
            missing = "org_0000000000000000" if by == "id" else "no-such-org"
            for (method, path, body), (_, missing_path, missing_body) in zip(
                org_calls(ref, o), org_calls(missing, o), strict=True
            ):
                response = client.request(method, path, headers=headers, json=body)
                where = f"{kind} {method} {path}"
                assert response.status_code in (403, 404), (where, response.text)
                error(response, response.status_code)
                for secret in secrets_of_b(o):
                    assert secret not in response.text, (where, response.text)
                # Indistinguishable from an org that does not exist.
                absent = client.request(
                    method, missing_path, headers=headers, json=missing_body
                )
                assert (absent.status_code, absent.json()) == (
                    response.status_code,
                    response.json(),
                ), where
    assert_b_untouched(client, o)
    listed = client.get("/api/v1/orgs", headers=o.alice.bearer).json()["items"]
    assert [org["id"] for org in listed] == [o.a["id"]]
    assert me(client, o.alice)["org_id"] == o.a["id"]
    keys = client.get("/api/v1/api-keys", headers=o.alice.bearer).json()["items"]
    tokens = client.get("/api/v1/access-tokens", headers=o.alice.bearer).json()
    assert all(k["org_id"] is None for k in keys + tokens["items"])


def test_foreign_org_in_the_header_is_refused(
    actions: Actions, client: httpx.Client, two: Orgs
) -> None:
    o = two
    pat = Actions.bearer(actions.make_pat(o.alice)["token"])
    key = Actions.bearer(actions.make_key(o.alice)["token"])
    for headers in (o.alice.bearer, pat, key):
        for ref in (o.b["id"], o.b["slug"], "org_0000000000000000", "no-such-org"):
            for path in (
                "/api/v1/me",
                "/api/v1/orgs",
                f"/api/v1/orgs/{o.a['id']}",
                "/api/v1/api-keys",
            ):
                response = client.get(
                    path, headers={**headers, "X-Organization-Id": ref}
                )
                body = error(response, 403, "forbidden")
                for secret in secrets_of_b(o):
                    assert secret not in body["error_description"]
        # Its own org, by id or slug, is fine.
        for ref in (o.a["id"], o.a["slug"]):
            response = client.get(
                "/api/v1/me", headers={**headers, "X-Organization-Id": ref}
            )
            assert response.json()["org_id"] == o.a["id"]


def test_a_credential_bound_to_one_org_acts_in_no_other(
    actions: Actions, client: httpx.Client, two: Orgs
) -> None:
    """Dave belongs to B and C; a key or token bound to C cannot act in B."""
    o = two
    dave = actions.org_member(o.bob, o.b["id"], "admin")
    org_c = actions.make_org(dave)  # Dave owns C and is an admin of B
    bound = {
        "key": actions.make_key(dave, org=org_c["id"], permission="write"),
        "pat": actions.make_pat(dave, org=org_c["slug"]),
    }
    for kind, created in bound.items():
        assert created["org_id"] == org_c["id"], kind
        headers = Actions.bearer(created["token"])
        assert me_with(client, headers)["org_id"] == org_c["id"]
        for ref in (o.b["id"], o.b["slug"]):
            error(
                client.get("/api/v1/me", headers={**headers, "X-Organization-Id": ref}),
                403,
                "forbidden",
            )
            # Every org endpoint, and making a key or token for B.
            for method, path, body in org_calls(ref, o)[:12]:
                response = client.request(method, path, headers=headers, json=body)
                assert response.status_code in (403, 404), (kind, method, path)
            response = client.post(
                "/api/v1/api-keys",
                headers={**headers, "X-Organization-Id": ref},
                json={"name": "k", "permission": "write"},
            )
            error(response, 403)
        # A key or token it makes without naming an org is refused (an API key
        # makes none) or stays in C: no way out either way.
        minted = [
            client.post(
                "/api/v1/api-keys",
                headers=headers,
                json={"name": "k", "permission": "write"},
            ),
            client.post(
                "/api/v1/access-tokens",
                headers=headers,
                json={"name": "t", "expires_in_days": 1},
            ),
        ]
        for response in minted:
            if kind == "key" and response.status_code == 403:
                continue
            assert response.status_code == 201, response.text
            assert response.json()["org_id"] == org_c["id"], kind
            child = Actions.bearer(response.json()["token"])
            error(client.get(f"/api/v1/orgs/{o.b['id']}", headers=child), 403)
    keys = client.get("/api/v1/api-keys", headers=dave.bearer).json()["items"]
    tokens = client.get("/api/v1/access-tokens", headers=dave.bearer).json()["items"]
    assert {c["org_id"] for c in keys + tokens} == {org_c["id"]}
    assert_b_untouched_but_admin(client, o, dave)


def me_with(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_b_untouched_but_admin(client: httpx.Client, o: Orgs, admin: Login) -> None:
    base = f"/api/v1/orgs/{o.b['id']}"
    org = client.get(base, headers=o.bob.bearer).json()
    assert org["name"] == o.b["name"]
    members = client.get(f"{base}/members", headers=o.bob.bearer).json()["items"]
    assert {m["username"]: m["role"] for m in members} == {
        o.bob.username: "owner",
        o.carol.username: "member",
        admin.username: "admin",
    }


def test_other_peoples_tokens_keys_and_sessions_are_not_found(
    actions: Actions, client: httpx.Client, two: Orgs
) -> None:
    o = two
    bob_pat = actions.make_pat(o.bob)
    bob_key = actions.make_key(o.bob, org=o.b["id"], permission="write")
    [bob_session] = client.get("/api/v1/sessions", headers=o.bob.bearer).json()["items"]
    alice_pat = actions.make_pat(o.alice)
    alice_key = actions.make_key(o.alice)
    for path in (
        f"/api/v1/access-tokens/{bob_pat['id']}",
        f"/api/v1/api-keys/{bob_key['id']}",
        f"/api/v1/sessions/{bob_session['id']}",
        # and the wrong kind of one's own credential
        f"/api/v1/access-tokens/{alice_key['id']}",
        f"/api/v1/api-keys/{alice_pat['id']}",
    ):
        error(client.delete(path, headers=o.alice.bearer), 404, "not_found")
    for path, secret in (
        ("/api/v1/access-tokens", bob_pat["id"]),
        ("/api/v1/api-keys", bob_key["id"]),
        ("/api/v1/sessions", bob_session["id"]),
    ):
        response = client.get(path, headers=o.alice.bearer)
        assert response.status_code == 200
        assert secret not in response.text
    # Bob's credentials all still work.
    for headers in (
        o.bob.bearer,
        Actions.bearer(bob_pat["token"]),
        Actions.bearer(bob_key["token"]),
    ):
        assert me_with(client, headers)["id"] == o.bob_id


def test_org_audit_shows_only_its_own_org(
    actions: Actions, client: httpx.Client, two: Orgs
) -> None:
    o = two
    actions.org_invite(o.alice, o.a["id"], random_email())
    base = f"/api/v1/orgs/{o.a['id']}/audit"
    # Neither a filter nor the slug lets one org's log show another's events.
    for params in ({}, {"org": o.b["id"]}, {"user": o.bob_id}):
        for path in (base, f"/api/v1/orgs/{o.a['slug']}/audit"):
            response = client.get(path, headers=o.alice.bearer, params=params)
            assert response.status_code == 200, response.text
            events = response.json()["items"]
            assert {e["org_id"] for e in events} <= {o.a["id"]}, params
            assert o.b["id"] not in response.text
    actions_seen = {
        e["action"] for e in client.get(base, headers=o.alice.bearer).json()["items"]
    }
    assert {"org.created", "invite.created"} <= actions_seen


def test_instance_admins_read_every_orgs_audit_others_do_not(
    actions: Actions, client: httpx.Client, two: Orgs
) -> None:
    o = two
    admin = actions.admin()
    response = client.get(
        "/api/v1/admin/audit", headers=admin.bearer, params={"limit": 200}
    )
    assert response.status_code == 200
    orgs_seen = {e["org_id"] for e in response.json()["items"]}
    assert {o.a["id"], o.b["id"]} <= orgs_seen
    for org in (o.a, o.b):
        response = client.get(
            "/api/v1/admin/audit", headers=admin.bearer, params={"org": org["id"]}
        )
        assert {e["org_id"] for e in response.json()["items"]} == {org["id"]}
    for login in (o.alice, o.bob, o.carol):
        error(client.get("/api/v1/admin/audit", headers=login.bearer), 403)
