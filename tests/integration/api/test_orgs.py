"""``/api/v1/orgs`` and ``/api/v1/org-invites``: organizations, their members,
invites into them, the org a request acts in, and the audit trail of every
membership change."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from authgate.util import clock, tokens
from tests.support import db
from tests.support.actions import Actions, Login, random_email, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.totp import enrol

DAY = 86_400


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    # Most tests register several accounts: more than the per-IP limit allows.
    return start_server(rate_limit_enabled=False)


def me(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def user_id(client: httpx.Client, login: Login) -> str:
    return str(me(client, login.bearer)["id"])


def with_email(actions: Actions, email: str | None = None) -> tuple[Login, str]:
    """A signed-in user with a verified email address (and no org)."""
    email = email or random_email()
    return actions.person(email), email


def roles(client: httpx.Client, org: str, login: Login) -> dict[str, str]:
    response = client.get(f"/api/v1/orgs/{org}/members", headers=login.bearer)
    assert response.status_code == 200, response.text
    return {m["username"]: m["role"] for m in response.json()["items"]}


def org_audit(client: httpx.Client, org: str, login: Login) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/v1/orgs/{org}/audit", headers=login.bearer, params={"limit": 200}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def accept(client: httpx.Client, login: Login, code: str) -> httpx.Response:
    return client.post(
        "/api/v1/org-invites/accept", headers=login.bearer, json={"code": code}
    )


# --- organizations ----------------------------------------------------------


def test_creating_an_org_makes_the_creator_its_owner(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    response = client.post(
        "/api/v1/orgs", headers=alice.bearer, json={"name": "  Acme Rockets  "}
    )
    assert response.status_code == 201, response.text
    org = response.json()
    assert org["id"].startswith("org_")
    assert (org["name"], org["slug"], org["role"]) == (
        "Acme Rockets",
        "acme-rockets",
        "owner",
    )
    listed = client.get("/api/v1/orgs", headers=alice.bearer).json()
    assert [
        {k: o[k] for k in ("id", "slug", "name", "role")} for o in listed["items"]
    ] == [{k: org[k] for k in ("id", "slug", "name", "role")}]
    assert roles(client, org["id"], alice) == {alice.username: "owner"}
    [member] = client.get(
        f"/api/v1/orgs/{org['slug']}/members", headers=alice.bearer
    ).json()["items"]
    assert set(member) == {"user_id", "username", "email", "role"}
    assert member["user_id"] == user_id(client, alice)
    # Both the id and the slug name it.
    for ref in (org["id"], org["slug"]):
        assert (
            client.get(f"/api/v1/orgs/{ref}", headers=alice.bearer).json()["id"]
            == org["id"]
        )


def test_orgs_lists_each_org_with_my_role(
    actions: Actions, client: httpx.Client
) -> None:
    alice, email = with_email(actions)
    bob = actions.user()
    theirs = actions.make_org(bob)
    unrelated = actions.make_org(bob)
    joined = actions.org_invite(bob, theirs["slug"], email, "viewer")
    assert accept(client, alice, joined["code"]).status_code == 200
    mine = actions.make_org(alice)
    listed = client.get("/api/v1/orgs", headers=alice.bearer).json()
    assert [(o["id"], o["slug"], o["name"], o["role"]) for o in listed["items"]] == [
        (theirs["id"], theirs["slug"], theirs["name"], "viewer"),
        (mine["id"], mine["slug"], mine["name"], "owner"),
    ]
    assert unrelated["id"] not in str(listed)


INVALID_SLUGS = [
    "Acme",
    "ACME",
    "acme rockets",
    "-acme",
    "acme-",
    "acme_x",
    "org_acme",
    "é",
]


def test_invalid_slugs_are_refused(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    org = actions.make_org(alice, slug="fine")
    for slug in INVALID_SLUGS:
        response = client.post(
            "/api/v1/orgs", headers=alice.bearer, json={"name": "Acme", "slug": slug}
        )
        error(response, 400, "invalid_request")
        response = client.patch(
            f"/api/v1/orgs/{org['id']}", headers=alice.bearer, json={"slug": slug}
        )
        error(response, 400, "invalid_request")
    listed = client.get("/api/v1/orgs", headers=alice.bearer).json()["items"]
    assert [o["slug"] for o in listed] == ["fine"]
    # An empty slug means "make one from the name".
    response = client.post(
        "/api/v1/orgs", headers=alice.bearer, json={"name": "Acme", "slug": ""}
    )
    assert response.status_code == 201, response.text
    assert response.json()["slug"] == "acme"


def test_slug_length_and_duplicates(actions: Actions, client: httpx.Client) -> None:
    alice, bob = actions.user(), actions.user()
    longest = "a" * 47 + "z"
    assert actions.make_org(alice, slug=longest)["slug"] == longest
    response = client.post(
        "/api/v1/orgs", headers=alice.bearer, json={"name": "x", "slug": "a" * 49}
    )
    error(response, 400, "invalid_request")
    actions.make_org(alice, "Taken", slug="taken")
    # Another person cannot have it either: slugs are unique on the instance.
    response = client.post(
        "/api/v1/orgs", headers=bob.bearer, json={"name": "Mine", "slug": "taken"}
    )
    error(response, 409, "conflict")
    other = actions.make_org(bob, slug="other")
    response = client.patch(
        f"/api/v1/orgs/{other['id']}", headers=bob.bearer, json={"slug": "taken"}
    )
    error(response, 409, "conflict")
    assert client.get("/api/v1/orgs/other", headers=bob.bearer).status_code == 200
    assert [
        o["slug"]
        for o in client.get("/api/v1/orgs", headers=bob.bearer).json()["items"]
    ] == ["other"]


ODD_NAMES = [
    ("Café Ünïcode", "cafe-unicode"),
    ("Zoe\u0308 & Co.", "zoe-co"),
    ("🚀 Rocket Team 🚀", "rocket-team"),
    ("ﬁnance", "finance"),
    ("東京チーム", "org"),
    ("مرحبا", "org-2"),
    ("🚀" * 100, "org-3"),
]


def test_names_with_odd_unicode(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    for name, slug in ODD_NAMES:
        org = actions.make_org(alice, name)
        assert (org["name"], org["slug"]) == (name, slug)
        body = client.get(f"/api/v1/orgs/{org['slug']}", headers=alice.bearer).json()
        assert (body["id"], body["name"]) == (org["id"], name)
    listed = client.get("/api/v1/orgs", headers=alice.bearer).json()["items"]
    assert [o["name"] for o in listed] == [name for name, _ in ODD_NAMES]


def test_a_slug_made_from_a_name_never_collides(
    actions: Actions, client: httpx.Client
) -> None:
    alice, bob = actions.user(), actions.user()
    slugs = [actions.make_org(alice, "Acme")["slug"] for _ in range(3)]
    slugs.append(actions.make_org(bob, "ACME!")["slug"])
    assert slugs == ["acme", "acme-2", "acme-3", "acme-4"]
    # Near the length limit the suffix still fits.
    long_name = "x" * 60
    first = actions.make_org(alice, long_name)["slug"]
    second = actions.make_org(alice, long_name)["slug"]
    assert first == "x" * 48
    assert second == "x" * 41 + "-2"
    # A slug asked for is never changed: taken is taken.
    response = client.post(
        "/api/v1/orgs", headers=bob.bearer, json={"name": "Acme", "slug": "acme"}
    )
    error(response, 409, "conflict")


BAD_NAMES = [
    "",
    "   ",
    "a" * 101,
    "bad\x00name",
    "two\nlines",
    "tab\there",
    "rtl\u202eevil",
    "zero\u200bwidth",
]


def test_unprintable_or_empty_names_are_refused(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    org = actions.make_org(alice, "Fine")
    for name in BAD_NAMES:
        response = client.post(
            "/api/v1/orgs", headers=alice.bearer, json={"name": name}
        )
        error(response, 400, "invalid_request")
        response = client.patch(
            f"/api/v1/orgs/{org['id']}", headers=alice.bearer, json={"name": name}
        )
        error(response, 400, "invalid_request")
    listed = client.get("/api/v1/orgs", headers=alice.bearer).json()["items"]
    assert [o["name"] for o in listed] == ["Fine"]


def test_only_an_owner_may_require_a_second_factor_of_members(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    org = actions.make_org(alice, "Acme")
    assert org["require_mfa"] is False
    bob = actions.org_member(alice, org["slug"], "admin")
    path = f"/api/v1/orgs/{org['id']}"
    refused = client.patch(path, headers=bob.bearer, json={"require_mfa": True})
    error(refused, 403, "forbidden")
    renamed = client.patch(path, headers=bob.bearer, json={"name": "Acme 2"})
    assert renamed.json()["require_mfa"] is False
    enrol(client, alice)
    response = client.patch(path, headers=alice.bearer, json={"require_mfa": True})
    assert response.status_code == 200, response.text
    assert response.json()["require_mfa"] is True
    # Bob, with no second factor, is asked to set one up (tests/integration/api/
    # test_org_mfa.py has the rule itself).
    error(client.get(path, headers=bob.bearer), 403, "mfa_enrollment_required")


def test_update_renames_and_moves_the_slug(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    org = actions.make_org(alice, "Acme", slug="acme")
    response = client.patch(
        "/api/v1/orgs/acme",
        headers=alice.bearer,
        json={"name": "Acme Rockets", "slug": "acme-rockets"},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["slug"]) == (
        "Acme Rockets",
        "acme-rockets",
    )
    error(client.get("/api/v1/orgs/acme", headers=alice.bearer), 404, "not_found")
    assert (
        client.get("/api/v1/orgs/acme-rockets", headers=alice.bearer).json()["id"]
        == org["id"]
    )
    # The new slug works as the org context at once (the cache was refreshed).
    headers = {**alice.bearer, "X-Organization-Id": "acme-rockets"}
    assert me(client, headers)["org_id"] == org["id"]
    error(
        client.get("/api/v1/me", headers={**alice.bearer, "X-Organization-Id": "acme"}),
        403,
    )
    [event] = [
        e for e in org_audit(client, org["id"], alice) if e["action"] == "org.updated"
    ]
    assert event["org_id"] == org["id"]
    assert event["details"] == {"name": "Acme Rockets", "slug": "acme-rockets"}


def test_deleting_an_org_revokes_its_bound_credentials(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    org = actions.make_org(alice)
    member = actions.org_member(alice, org["id"], "member")
    bound_key = actions.make_key(alice, org=org["id"], permission="write")
    member_key = actions.make_key(member, org=org["slug"])
    bound_pat = actions.make_pat(alice, org=org["id"])
    free_key = actions.make_key(alice)
    free_pat = actions.make_pat(alice)
    for created in (bound_key, member_key, bound_pat, free_key, free_pat):
        assert me(client, Actions.bearer(created["token"]))["org_id"] == org["id"]
    assert me(client, member.bearer)["org_id"] == org["id"]

    response = client.delete(f"/api/v1/orgs/{org['slug']}", headers=alice.bearer)
    assert response.status_code == 204, response.text

    for created in (bound_key, member_key, bound_pat):
        response = client.get("/api/v1/me", headers=Actions.bearer(created["token"]))
        error(response, 401)
    # Credentials not bound to it keep working, now outside any org.
    for created in (free_key, free_pat):
        assert me(client, Actions.bearer(created["token"]))["org_id"] is None
    assert me(client, member.bearer)["org_id"] is None
    for login in (alice, member):
        error(client.get(f"/api/v1/orgs/{org['id']}", headers=login.bearer), 404)
        assert client.get("/api/v1/orgs", headers=login.bearer).json()["items"] == []
    listed = client.get("/api/v1/api-keys", headers=alice.bearer).json()["items"]
    assert [k["id"] for k in listed] == [free_key["id"]]
    # The slug is free again.
    assert actions.make_org(alice, slug=org["slug"])["slug"] == org["slug"]
    response = client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"org": org["id"], "action": "org.deleted"},
    )
    [event] = response.json()["items"]
    assert event["actor_id"] == user_id(client, alice)


# --- members ----------------------------------------------------------------


def test_changing_a_role(actions: Actions, client: httpx.Client) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    member = actions.org_member(owner, org, "member")
    member_id = user_id(client, member)
    path = f"/api/v1/orgs/{org}/members/{member_id}"
    response = client.patch(path, headers=owner.bearer, json={"role": "admin"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "user_id": member_id,
        "username": member.username,
        "email": f"{member.username}@example.com",
        "role": "admin",
    }
    # The new role takes effect at once: the admin may now invite.
    actions.org_invite(member, org, random_email())
    for role in ("superuser", "Owner", ""):
        error(client.patch(path, headers=owner.bearer, json={"role": role}), 400)
    error(
        client.patch(
            f"/api/v1/orgs/{org}/members/usr_nobody",
            headers=owner.bearer,
            json={"role": "viewer"},
        ),
        404,
        "not_found",
    )
    assert roles(client, org, owner)[member.username] == "admin"


def test_removing_a_member_ends_their_org_context_at_once(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    member = actions.org_member(owner, org["id"], "member")
    pat = Actions.bearer(actions.make_pat(member, org=org["slug"])["token"])
    key = Actions.bearer(actions.make_key(member, org=org["id"])["token"])
    header = {**member.bearer, "X-Organization-Id": org["id"]}
    # Warm the per-user org cache: every one of these acts in the org.
    for headers in (pat, key, header, member.bearer):
        assert me(client, headers)["org_id"] == org["id"]

    response = client.delete(
        f"/api/v1/orgs/{org['id']}/members/{user_id(client, member)}",
        headers=owner.bearer,
    )
    assert response.status_code == 204, response.text

    for headers in (pat, key, header):
        error(client.get("/api/v1/me", headers=headers), 403, "forbidden")
    # Without an org asked for, the default (that org) is gone too.
    assert me(client, member.bearer)["org_id"] is None
    error(client.get(f"/api/v1/orgs/{org['id']}", headers=member.bearer), 404)
    assert client.get("/api/v1/orgs", headers=member.bearer).json()["items"] == []
    assert member.username not in roles(client, org["id"], owner)
    error(
        client.delete(
            f"/api/v1/orgs/{org['id']}/members/{user_id(client, member)}",
            headers=owner.bearer,
        ),
        404,
    )


# --- invites ----------------------------------------------------------------


def test_an_invite_gives_a_single_use_code_and_url_for_7_days(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    before = clock.now()
    response = client.post(
        f"/api/v1/orgs/{org['slug']}/invites",
        headers=owner.bearer,
        json={"email": "New.Person@Example.COM", "role": "admin"},
    )
    assert response.status_code == 201, response.text
    invite = response.json()
    assert set(invite) == {"id", "code", "url", "expires_at"}
    assert invite["id"].startswith("inv_")
    parsed = tokens.parse(invite["code"])
    assert parsed is not None
    assert invite["url"] == f"{server.url}/settings/orgs/accept?code={invite['code']}"
    expires = datetime.fromisoformat(invite["expires_at"])
    assert abs(expires - (before + timedelta(days=7))) < timedelta(minutes=1)

    [listed] = client.get(
        f"/api/v1/orgs/{org['id']}/invites", headers=owner.bearer
    ).json()["items"]
    assert listed["id"] == invite["id"]
    assert (listed["email"], listed["role"], listed["status"]) == (
        "New.Person@example.com",
        "admin",
        "unused",
    )
    assert invite["code"] not in str(listed)

    # The account with that address (in any case) may accept it, once.
    joiner, _ = with_email(actions, "new.person@example.com")
    response = accept(client, joiner, invite["code"])
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in ("id", "slug", "name", "role")} == {
        "id": org["id"],
        "slug": org["slug"],
        "name": org["name"],
        "role": "admin",
    }
    assert roles(client, org["id"], owner)[joiner.username] == "admin"
    assert me(client, joiner.bearer)["org_id"] == org["id"]  # first org: default
    error(accept(client, joiner, invite["code"]), 403, "forbidden")
    [listed] = client.get(
        f"/api/v1/orgs/{org['id']}/invites", headers=owner.bearer
    ).json()["items"]
    assert listed["status"] == "used"


def test_an_invite_expires_after_7_days(actions: Actions, client: httpx.Client) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    early, early_email = with_email(actions)
    late, late_email = with_email(actions)
    early_code = actions.org_invite(owner, org, early_email)["code"]
    late_code = actions.org_invite(owner, org, late_email)["code"]
    clock.advance(7 * DAY - 60)
    # (Sign in again: the access tokens from before have long expired.)
    owner = actions.login(owner.username)
    early, late = actions.login(early.username), actions.login(late.username)
    assert accept(client, early, early_code).status_code == 200
    clock.advance(61)
    error(accept(client, late, late_code), 403, "forbidden")
    assert late.username not in roles(client, org, owner)
    statuses = {
        i["email"]: i["status"]
        for i in client.get(f"/api/v1/orgs/{org}/invites", headers=owner.bearer).json()[
            "items"
        ]
    }
    assert statuses == {early_email: "used", late_email: "expired"}


def test_only_the_invited_address_may_accept(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    invited, email = with_email(actions)
    other, _ = with_email(actions)
    no_email = actions.user()
    code = actions.org_invite(owner, org, email)["code"]
    masked = f"This invite was sent to {email[0]}•••@example.com"
    for login in (other, no_email, owner):
        body = error(accept(client, login, code), 403, "forbidden")
        assert body["error_description"].startswith(f"{masked}, not to your")
    # The address, unverified, is no proof of whose it is.
    unverified_email = random_email()
    unverified = actions.user(email=unverified_email)
    second = actions.org_invite(owner, org, unverified_email)["code"]
    body = error(accept(client, unverified, second), 403, "forbidden")
    assert "verify that address first" in body["error_description"]
    # Still unused: the right person can take it.
    assert accept(client, invited, code).status_code == 200
    assert set(roles(client, org, owner)) == {owner.username, invited.username}


def test_accepting_is_refused_for_bad_codes_and_existing_members(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    joiner, email = with_email(actions)
    for code in ("nope", actions.invite(), "ag_inv_" + "A" * 40):
        error(accept(client, joiner, code), 403, "forbidden")
    with server.client() as anonymous:
        response = anonymous.post("/api/v1/org-invites/accept", json={"code": "x"})
        error(response, 401)
    first = actions.org_invite(owner, org, email)["code"]
    second = actions.org_invite(owner, org, email, "admin")["code"]
    assert accept(client, joiner, first).status_code == 200
    error(accept(client, joiner, second), 409, "conflict")
    # The refused one was not spent, and the role did not change.
    assert roles(client, org, owner)[joiner.username] == "member"
    statuses = sorted(
        i["status"]
        for i in client.get(f"/api/v1/orgs/{org}/invites", headers=owner.bearer).json()[
            "items"
        ]
    )
    assert statuses == ["unused", "used"]


def test_invite_input_is_checked(actions: Actions, client: httpx.Client) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    for body in (
        {"email": "not-an-address", "role": "member"},
        {"email": random_email(), "role": "superuser"},
        {"role": "member"},
        {"email": "   ", "role": "member"},
    ):
        response = client.post(
            f"/api/v1/orgs/{org}/invites", headers=owner.bearer, json=body
        )
        error(response, 400, "invalid_request")
    assert (
        client.get(f"/api/v1/orgs/{org}/invites", headers=owner.bearer).json()["items"]
        == []
    )


def test_revoking_an_invite(actions: Actions, client: httpx.Client) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    other_org = actions.make_org(owner)["id"]
    joiner, email = with_email(actions)
    invite = actions.org_invite(owner, org, email)
    foreign = actions.org_invite(owner, other_org, random_email())
    # An invite is revoked through its own org only.
    error(
        client.delete(
            f"/api/v1/orgs/{org}/invites/{foreign['id']}", headers=owner.bearer
        ),
        404,
    )
    path = f"/api/v1/orgs/{org}/invites/{invite['id']}"
    assert client.delete(path, headers=owner.bearer).status_code == 204
    error(client.delete(path, headers=owner.bearer), 404, "not_found")
    error(accept(client, joiner, invite["code"]), 403, "forbidden")
    [listed] = client.get(f"/api/v1/orgs/{org}/invites", headers=owner.bearer).json()[
        "items"
    ]
    assert listed["status"] == "revoked"
    used = actions.org_invite(owner, org, email)
    assert accept(client, joiner, used["code"]).status_code == 200
    error(
        client.delete(f"/api/v1/orgs/{org}/invites/{used['id']}", headers=owner.bearer),
        404,
    )
    events = [e["action"] for e in org_audit(client, org, owner)]
    assert events.count("invite.revoked") == 1


def test_registering_with_an_org_invite_creates_the_member(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    """Where the instance lets org invites make accounts
    (``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS``; by default they do not:
    ``tests/integration/api/test_org_invites_make_no_accounts.py``)."""
    with start_server(org_invites_create_accounts=True).client() as client:
        actions = Actions(client)
        owner = actions.user()
        org = actions.make_org(owner)
        email = random_email()
        code = actions.org_invite(owner, org["id"], email, "viewer")["code"]
        name = random_name()
        # Another address is refused, and creates nothing.
        response = actions.register(name, invite_code=code, email=random_email())
        error(response, 403, "forbidden")
        assert db.user(database_url, name) is None
        response = actions.register(name, invite_code=code)
        assert response.status_code == 201, response.text
        assert response.json()["email"] == email
        joiner = actions.login(name)
        assert me(client, joiner.bearer)["org_id"] == org["id"]
        listed = client.get("/api/v1/orgs", headers=joiner.bearer).json()["items"]
        assert [(o["id"], o["role"]) for o in listed] == [(org["id"], "viewer")]
        # The code is spent: neither registration nor acceptance takes it again.
        error(actions.register(random_name(), invite_code=code), 403, "forbidden")
        error(accept(client, joiner, code), 403, "forbidden")


# --- the org a request acts in ----------------------------------------------


def test_the_org_context(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    alice = actions.user()
    assert me(client, alice.bearer)["org_id"] is None  # no org yet
    first = actions.make_org(alice)
    second = actions.make_org(alice)
    # The first org is the default; a later one does not replace it.
    assert me(client, alice.bearer)["org_id"] == first["id"]
    # The header picks one, by id or slug.
    for ref in (second["id"], second["slug"]):
        headers = {**alice.bearer, "X-Organization-Id": ref}
        assert me(client, headers)["org_id"] == second["id"]
    # The same for a browser session (cookie).
    with server.client() as browser:
        Actions(browser).login(alice.username)
        assert me(browser, {})["auth"]["kind"] == "session"
        assert me(browser, {})["org_id"] == first["id"]
        headers = {"X-Organization-Id": second["slug"]}
        assert me(browser, headers)["org_id"] == second["id"]
    # A token may be bound to one.
    pat = actions.make_pat(alice, org=second["slug"])
    assert pat["org_id"] == second["id"]
    assert me(client, Actions.bearer(pat["token"]))["org_id"] == second["id"]
    unbound = actions.make_pat(alice)
    assert unbound["org_id"] is None
    assert me(client, Actions.bearer(unbound["token"]))["org_id"] == first["id"]
    # An API key belongs to the org in context when it is made (body or header),
    # else to its creator.
    by_header = client.post(
        "/api/v1/api-keys",
        headers={**alice.bearer, "X-Organization-Id": second["slug"]},
        json={"name": "svc"},
    ).json()
    assert by_header["org_id"] == second["id"]
    assert me(client, Actions.bearer(by_header["token"]))["org_id"] == second["id"]
    assert actions.make_key(alice, org=second["id"])["org_id"] == second["id"]
    assert actions.make_key(alice)["org_id"] is None
    # A bound credential may name its own org in the header, no other.
    bound = Actions.bearer(pat["token"])
    assert (
        me(client, {**bound, "X-Organization-Id": second["slug"]})["org_id"]
        == (second["id"])
    )
    error(
        client.get("/api/v1/me", headers={**bound, "X-Organization-Id": first["id"]}),
        403,
        "forbidden",
    )
    # Binding to an org one is not in is refused.
    bob = actions.user()
    foreign = actions.make_org(bob)
    for path, body in (
        ("/api/v1/access-tokens", {"name": "t", "expires_in_days": 1}),
        ("/api/v1/api-keys", {"name": "k"}),
    ):
        response = client.post(
            path, headers=alice.bearer, json={**body, "org": foreign["id"]}
        )
        error(response, 404, "not_found")


def test_changing_the_default_org(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    first = actions.make_org(alice)
    second = actions.make_org(alice)
    response = client.patch(
        "/api/v1/me", headers=alice.bearer, json={"default_org": second["slug"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["org_id"] == second["id"]
    assert me(client, alice.bearer)["org_id"] == second["id"]
    # camelCase is accepted too.
    response = client.patch(
        "/api/v1/me", headers=alice.bearer, json={"defaultOrg": first["id"]}
    )
    assert response.json()["org_id"] == first["id"]
    assert me(client, alice.bearer)["org_id"] == first["id"]
    # Not an org one belongs to: refused, nothing changes.
    bob = actions.user()
    foreign = actions.make_org(bob)
    for ref in (foreign["id"], foreign["slug"], "no-such-org"):
        error(
            client.patch("/api/v1/me", headers=alice.bearer, json={"default_org": ref}),
            404,
        )
    assert me(client, alice.bearer)["org_id"] == first["id"]
    # null: no default org.
    response = client.patch(
        "/api/v1/me", headers=alice.bearer, json={"default_org": None}
    )
    assert response.json()["org_id"] is None
    assert me(client, alice.bearer)["org_id"] is None
    # Leaving the default org clears it.
    client.patch("/api/v1/me", headers=alice.bearer, json={"default_org": second["id"]})
    carol = actions.org_member(alice, second["id"], "owner")
    assert me(client, carol.bearer)["org_id"] == second["id"]
    response = client.delete(
        f"/api/v1/orgs/{second['id']}/members/{user_id(client, alice)}",
        headers=alice.bearer,
    )
    assert response.status_code == 204
    assert me(client, alice.bearer)["org_id"] is None


# --- the audit trail --------------------------------------------------------


def test_every_membership_change_is_audited_with_its_org(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    owner_id = user_id(client, owner)
    org = actions.make_org(owner)["id"]
    joiner, email = with_email(actions)
    joiner_id = user_id(client, joiner)
    invite = actions.org_invite(owner, org, email, "member")
    assert accept(client, joiner, invite["code"]).status_code == 200
    registered = actions.org_member(owner, org, "viewer")
    registered_id = user_id(client, registered)
    path = f"/api/v1/orgs/{org}/members"
    client.patch(f"{path}/{joiner_id}", headers=owner.bearer, json={"role": "admin"})
    assert (
        client.delete(f"{path}/{registered_id}", headers=owner.bearer).status_code
        == 204
    )
    assert (
        client.delete(f"{path}/{joiner_id}", headers=joiner.bearer).status_code == 204
    )

    events = org_audit(client, org, owner)
    assert {e["org_id"] for e in events} == {org}
    by_action: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_action.setdefault(event["action"], []).append(event)

    [created] = by_action["org.created"]
    assert (created["actor_id"], created["target_id"]) == (owner_id, org)
    invited = [e for e in by_action["invite.created"] if e["target_id"] == invite["id"]]
    assert invited[0]["actor_id"] == owner_id
    assert invited[0]["details"] == {"email": email, "role": "member"}
    joined = {e["target_id"]: e for e in by_action["member.joined"]}
    assert set(joined) == {joiner_id, registered_id}
    assert joined[joiner_id]["details"]["role"] == "member"
    assert joined[registered_id]["details"]["role"] == "viewer"
    [changed] = by_action["member.role_changed"]
    assert (changed["actor_id"], changed["target_id"]) == (owner_id, joiner_id)
    assert changed["details"] == {"from": "member", "to": "admin"}
    [removed] = by_action["member.removed"]
    assert (removed["actor_id"], removed["target_id"]) == (owner_id, registered_id)
    [left] = by_action["member.left"]
    assert (left["actor_id"], left["target_id"]) == (joiner_id, joiner_id)

    # The instance administrator sees the same events.
    response = client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"org": org, "limit": 200},
    )
    assert [e["id"] for e in response.json()["items"]] == [e["id"] for e in events]


def test_org_audit_is_for_owners_and_admins(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["slug"]
    admin = actions.org_member(owner, org, "admin")
    assert org_audit(client, org, admin)
    for role in ("member", "viewer"):
        login = actions.org_member(owner, org, role)
        error(client.get(f"/api/v1/orgs/{org}/audit", headers=login.bearer), 403)
