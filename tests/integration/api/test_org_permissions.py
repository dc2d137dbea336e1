"""The organization permission matrix: every role, and a non-member, against
every org endpoint. What each may do is read from
``authgate.domain.permissions.TABLE`` — the table the code enforces, the one
``docs/permissions.md`` is generated from, and the one this test expects — so
the three cannot drift apart.

Plus the rules the table cannot express: only owners touch the owner role,
the last owner stays, anyone may leave, and a read-only credential acts as a
viewer.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.domain.permissions import TABLE, Action, Role, allowed, markdown_table
from tests.support.actions import Actions, Login, random_email
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.totp import enrol

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "permissions.md"
REGENERATE = ".venv/bin/python -m tests.integration.api.test_org_permissions"
DOCS_HEADER = """\
# Organization permissions

Generated from `authgate.domain.permissions.TABLE` (the table the server
enforces and the permission-matrix test checks); regenerate with
`{command}`.

Every signed-in user may create organizations and leave the ones they belong
to (except the last owner). Only an owner may grant, change or remove the
owner role, and an organization always keeps at least one owner. A read-only
credential (API key or token without the `write` scope) acts as a viewer.
Non-members are told the organization does not exist (`404`).

"""


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    # Every world registers a few accounts: more than the per-IP limit allows.
    return start_server(rate_limit_enabled=False)


@dataclass(frozen=True)
class World:
    """One organization with the actor in one role, and the things the actor
    acts on: a member whose role it changes, a member it removes, a pending
    invite it revokes."""

    org: dict[str, Any]
    ref: str
    creator: Login
    actor: Login
    target: Login
    removed: Login
    invite_id: str

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/orgs/{self.ref}{suffix}"


Call = Callable[[httpx.Client, World], httpx.Response]


def member_id(client: httpx.Client, login: Login) -> str:
    return str(client.get("/api/v1/me", headers=login.bearer).json()["id"])


def _change_role(client: httpx.Client, w: World) -> httpx.Response:
    user_id = member_id(client, w.target)
    return client.patch(
        w.path(f"/members/{user_id}"), headers=w.actor.bearer, json={"role": "viewer"}
    )


def _remove(client: httpx.Client, w: World) -> httpx.Response:
    user_id = member_id(client, w.removed)
    return client.delete(w.path(f"/members/{user_id}"), headers=w.actor.bearer)


def _require_mfa(client: httpx.Client, w: World) -> httpx.Response:
    enrol(client, w.actor)  # an owner must have a factor to require one
    return client.patch(w.path(), headers=w.actor.bearer, json={"require_mfa": True})


#: Every org endpoint and the action it needs. Deleting the org comes last:
#: it ends the world the other calls act in.
CALLS: list[tuple[str, Call, Action]] = [
    (
        "GET /orgs/{org}",
        lambda c, w: c.get(w.path(), headers=w.actor.bearer),
        Action.READ,
    ),
    (
        "PATCH /orgs/{org}",
        lambda c, w: c.patch(w.path(), headers=w.actor.bearer, json={"name": "New"}),
        Action.UPDATE,
    ),
    (
        "GET /orgs/{org}/members",
        lambda c, w: c.get(w.path("/members"), headers=w.actor.bearer),
        Action.READ_MEMBERS,
    ),
    (
        "POST /orgs/{org}/invites",
        lambda c, w: c.post(
            w.path("/invites"),
            headers=w.actor.bearer,
            json={"email": random_email(), "role": "member"},
        ),
        Action.INVITE,
    ),
    (
        "GET /orgs/{org}/invites",
        lambda c, w: c.get(w.path("/invites"), headers=w.actor.bearer),
        Action.INVITE,
    ),
    (
        "DELETE /orgs/{org}/invites/{id}",
        lambda c, w: c.delete(
            w.path(f"/invites/{w.invite_id}"), headers=w.actor.bearer
        ),
        Action.INVITE,
    ),
    ("PATCH /orgs/{org}/members/{user_id}", _change_role, Action.CHANGE_ROLE),
    ("DELETE /orgs/{org}/members/{user_id}", _remove, Action.REMOVE_MEMBER),
    (
        "POST /api-keys {org}",
        lambda c, w: c.post(
            "/api/v1/api-keys",
            headers=w.actor.bearer,
            json={"name": "ci", "permission": "write", "org": w.ref},
        ),
        Action.CREATE_API_KEY,
    ),
    (
        "GET /orgs/{org}/audit",
        lambda c, w: c.get(w.path("/audit"), headers=w.actor.bearer),
        Action.READ_AUDIT,
    ),
    ("PATCH /orgs/{org} {require_mfa}", _require_mfa, Action.REQUIRE_MFA),
    (
        "DELETE /orgs/{org}",
        lambda c, w: c.delete(w.path(), headers=w.actor.bearer),
        Action.DELETE,
    ),
]

#: The actions that change the organization itself.
CHANGES = (
    Action.UPDATE,
    Action.REQUIRE_MFA,
    Action.DELETE,
    Action.INVITE,
    Action.CHANGE_ROLE,
    Action.REMOVE_MEMBER,
)

#: Every role, and ``None`` for a signed-in user outside the organization.
ROLES: list[Role | None] = [*Role, None]


def make_world(actions: Actions, creator: Login, role: Role | None, by: str) -> World:
    org = actions.make_org(creator)
    ref = org[by]
    actor = actions.org_member(creator, ref, role) if role else actions.user()
    target = actions.org_member(creator, ref, "member")
    removed = actions.org_member(creator, ref, "member")
    invite = actions.org_invite(creator, ref, random_email())
    return World(org, ref, creator, actor, target, removed, invite["id"])


def check_denied_changed_nothing(client: httpx.Client, w: World) -> list[str]:
    """After a role was refused everything, the org is as the creator left it."""
    problems = []
    org = client.get(w.path(), headers=w.creator.bearer)
    if org.status_code != 200 or (org.json()["name"], org.json()["require_mfa"]) != (
        w.org["name"],
        False,
    ):
        problems.append(f"org changed: {org.text}")
    members = client.get(w.path("/members"), headers=w.creator.bearer).json()
    roles = {m["username"]: m["role"] for m in members["items"]}
    if roles.get(w.target.username) != "member" or w.removed.username not in roles:
        problems.append(f"members changed: {roles}")
    pending = client.get(w.path("/invites"), headers=w.creator.bearer).json()
    statuses = {i["id"]: i["status"] for i in pending["items"]}
    if statuses.get(w.invite_id) != "unused":
        problems.append(f"invite changed: {statuses}")
    return problems


def test_every_action_has_an_endpoint_and_every_role_a_row() -> None:
    assert {action for _, _, action in CALLS} == set(Action)
    assert set(TABLE) == set(Role)


def test_matrix_matches_the_permission_table(
    actions: Actions, client: httpx.Client
) -> None:
    creator = actions.user()
    mismatches: list[str] = []
    for by in ("id", "slug"):
        for role in ROLES:
            world = make_world(actions, creator, role, by)
            for name, call, action in CALLS:
                response = call(client, world)
                expected = allowed(role, action)
                ok = 200 <= response.status_code < 300
                if role is None:
                    want = "404"
                    right = response.status_code == 404
                elif expected:
                    want = "2xx"
                    right = ok
                else:
                    want = "403"
                    right = response.status_code == 403
                if not right:
                    mismatches.append(
                        f"{role or 'non-member'} by {by}: {name} ({action.value}) "
                        f"wanted {want}, got {response.status_code} {response.text}"
                    )
                elif not ok:
                    error(response, response.status_code)
                    if world.org["name"] in response.text:
                        mismatches.append(f"{name} leaked the org: {response.text}")
            if not any(allowed(role, a) for a in CHANGES):
                mismatches += [
                    f"{role or 'non-member'} by {by}: {problem}"
                    for problem in check_denied_changed_nothing(client, world)
                ]
    assert not mismatches, "\n".join(mismatches)


def test_allowed_calls_take_effect(actions: Actions, client: httpx.Client) -> None:
    """The matrix counts a 2xx as allowed; here the effects are real."""
    creator = actions.user()
    world = make_world(actions, creator, Role.ADMIN, "id")
    for _, call, action in CALLS:
        if action is not Action.DELETE:
            call(client, world)
    org = client.get(world.path(), headers=creator.bearer).json()
    assert org["name"] == "New"
    members = client.get(world.path("/members"), headers=creator.bearer).json()
    roles = {m["username"]: m["role"] for m in members["items"]}
    assert roles[world.target.username] == "viewer"
    assert world.removed.username not in roles
    invites = client.get(world.path("/invites"), headers=creator.bearer).json()
    statuses = {i["id"]: i["status"] for i in invites["items"]}
    assert statuses[world.invite_id] == "revoked"
    # The invite the admin sent is the one still pending.
    assert list(statuses.values()).count("unused") == 1
    keys = client.get("/api/v1/api-keys", headers=world.actor.bearer).json()
    assert [k["org_id"] for k in keys["items"]] == [world.org["id"]]

    owner_world = make_world(actions, creator, Role.OWNER, "slug")
    response = client.delete(owner_world.path(), headers=owner_world.actor.bearer)
    assert response.status_code == 204
    error(client.get(owner_world.path(), headers=creator.bearer), 404, "not_found")


def test_only_owners_grant_change_or_remove_the_owner_role(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    admin = actions.org_member(owner, org, "admin")
    member = actions.org_member(owner, org, "member")
    other_owner = actions.org_member(owner, org, "owner")
    base = f"/api/v1/orgs/{org}"

    # An admin may run the org but may not make, unmake or remove an owner.
    refused = [
        client.patch(
            f"{base}/members/{member_id(client, member)}",
            headers=admin.bearer,
            json={"role": "owner"},
        ),
        client.patch(
            f"{base}/members/{member_id(client, other_owner)}",
            headers=admin.bearer,
            json={"role": "admin"},
        ),
        client.delete(
            f"{base}/members/{member_id(client, other_owner)}", headers=admin.bearer
        ),
        client.post(
            f"{base}/invites",
            headers=admin.bearer,
            json={"email": random_email(), "role": "owner"},
        ),
        client.patch(
            f"{base}/members/{member_id(client, admin)}",
            headers=admin.bearer,
            json={"role": "owner"},
        ),
    ]
    for response in refused:
        error(response, 403, "forbidden")
    roles = {
        m["username"]: m["role"]
        for m in client.get(f"{base}/members", headers=owner.bearer).json()["items"]
    }
    assert roles == {
        owner.username: "owner",
        admin.username: "admin",
        member.username: "member",
        other_owner.username: "owner",
    }
    # An admin may still change roles below owner.
    response = client.patch(
        f"{base}/members/{member_id(client, member)}",
        headers=admin.bearer,
        json={"role": "viewer"},
    )
    assert response.status_code == 200, response.text

    # An owner may do all of it.
    response = client.patch(
        f"{base}/members/{member_id(client, member)}",
        headers=owner.bearer,
        json={"role": "owner"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "owner"
    response = client.patch(
        f"{base}/members/{member_id(client, other_owner)}",
        headers=owner.bearer,
        json={"role": "member"},
    )
    assert response.json()["role"] == "member"
    response = client.delete(
        f"{base}/members/{member_id(client, member)}", headers=owner.bearer
    )
    assert response.status_code == 204
    assert actions.org_invite(owner, org, random_email(), "owner")["code"]


def test_the_last_owner_cannot_leave_or_be_demoted(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["slug"]
    admin = actions.org_member(owner, org, "admin")
    base = f"/api/v1/orgs/{org}"
    me = f"{base}/members/{member_id(client, owner)}"

    for role in ("admin", "member", "viewer"):
        response = client.patch(me, headers=owner.bearer, json={"role": role})
        error(response, 409, "conflict")
    error(client.delete(me, headers=owner.bearer), 409, "conflict")
    assert client.get(base, headers=owner.bearer).json()["role"] == "owner"

    # With a second owner, the first may step down (and then leave).
    them = f"{base}/members/{member_id(client, admin)}"
    client.patch(them, headers=owner.bearer, json={"role": "owner"})
    response = client.patch(me, headers=owner.bearer, json={"role": "admin"})
    assert response.status_code == 200, response.text
    # Now the other one is the last owner.
    error(client.delete(them, headers=admin.bearer), 409, "conflict")
    error(
        client.patch(them, headers=admin.bearer, json={"role": "viewer"}),
        409,
        "conflict",
    )
    assert client.delete(me, headers=owner.bearer).status_code == 204
    error(client.get(base, headers=owner.bearer), 404, "not_found")


def test_any_member_may_leave(actions: Actions, client: httpx.Client) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    for role in ("admin", "member", "viewer"):
        leaver = actions.org_member(owner, org, role)
        response = client.delete(
            f"/api/v1/orgs/{org}/members/{member_id(client, leaver)}",
            headers=leaver.bearer,
        )
        assert response.status_code == 204, (role, response.text)
        error(client.get(f"/api/v1/orgs/{org}", headers=leaver.bearer), 404)
    members = client.get(f"/api/v1/orgs/{org}/members", headers=owner.bearer)
    assert [m["username"] for m in members.json()["items"]] == [owner.username]


def test_a_read_only_credential_acts_as_a_viewer(
    actions: Actions, client: httpx.Client
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    base = f"/api/v1/orgs/{org}"
    read_key = Actions.bearer(actions.make_key(owner, org=org)["token"])
    read_pat = Actions.bearer(actions.make_pat(owner, scopes=["read"])["token"])
    write_key = Actions.bearer(
        actions.make_key(owner, org=org, permission="write")["token"]
    )

    for headers in (read_key, read_pat):
        # What a viewer may do...
        assert client.get(base, headers=headers).status_code == 200
        assert client.get(f"{base}/members", headers=headers).status_code == 200
        # ...and nothing a viewer may not, though the owner made the credential.
        for action, path in (
            (Action.READ_AUDIT, "/audit"),
            (Action.INVITE, "/invites"),
        ):
            assert not allowed(Role.VIEWER, action)
            error(client.get(f"{base}{path}", headers=headers), 403)
        error(
            client.patch(base, headers=headers, json={"name": "x"}),
            403,
            "insufficient_scope",
        )
        error(client.delete(base, headers=headers), 403, "insufficient_scope")
    assert client.get(base, headers=read_key).json()["role"] == "viewer"

    # A read-write key of the owner acts with the owner's role.
    assert client.get(f"{base}/audit", headers=write_key).status_code == 200
    assert client.get(f"{base}/invites", headers=write_key).status_code == 200
    assert client.get(base, headers=write_key).json()["role"] == "owner"


def render_docs() -> str:
    return DOCS_HEADER.format(command=REGENERATE) + markdown_table()


def test_docs_permissions_md_is_up_to_date() -> None:
    current = DOCS.read_text() if DOCS.exists() else ""
    assert current == render_docs(), (
        f"docs/permissions.md is out of date; regenerate it with: {REGENERATE}"
    )


if __name__ == "__main__":
    DOCS.write_text(render_docs())
