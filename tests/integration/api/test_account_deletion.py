"""Deleting an account (``DELETE /api/v1/admin/users/{id}``, ``DELETE
/api/v1/me``) and taking one's data away (``GET /api/v1/me/export``): every
credential stops at once, the audit log keeps its entries, the last-owner and
last-administrator rules hold, and a refused deletion changes nothing."""

from collections.abc import Callable
from typing import Any

import httpx

from authgate.util import clock
from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions, Login, random_email, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

USERS = "/api/v1/admin/users"
#: Just past the default step-up age of ten minutes.
STALE = 10 * 60 + 1


def user_id(client: httpx.Client, login: Login) -> str:
    return str(client.get("/api/v1/me", headers=login.bearer).json()["id"])


def audit(client: httpx.Client, admin: Login, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/admin/audit", headers=admin.bearer, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def delete_me(
    client: httpx.Client, login: Login | dict[str, str], password: str | None
) -> httpx.Response:
    headers = login.bearer if isinstance(login, Login) else login
    body = {} if password is None else {"password": password}
    return client.request("DELETE", "/api/v1/me", headers=headers, json=body)


def test_an_admin_deletes_an_account_and_all_it_holds(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    bob = actions.user()
    bob_id = user_id(client, bob)
    pat = actions.bearer(actions.make_pat(bob)["token"])
    key = actions.bearer(actions.make_key(bob)["token"])
    solo = actions.make_org(bob)
    # Verified once, so each is in this process's caches now.
    for headers in (bob.bearer, pat, key):
        assert client.get("/api/v1/me", headers=headers).status_code == 200

    wrong = {"username": bob.username, "password": "not the password"}
    for _ in range(5):  # AUTHGATE_MAX_LOGIN_ATTEMPTS: the username is locked
        error(client.post("/api/v1/auth/login", json=wrong), 401)

    gone = client.delete(f"{USERS}/{bob_id}", headers=admin.bearer)
    assert gone.status_code == 204, gone.text

    for headers in (bob.bearer, pat, key):
        error(client.get("/api/v1/me", headers=headers), 401)
    refresh = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": bob.refresh_token}
    )
    assert refresh.status_code in (400, 401), refresh.text
    login = {"username": bob.username, "password": PASSWORD}
    error(client.post("/api/v1/auth/login", json=login), 401)
    error(client.get(f"{USERS}/{bob_id}", headers=admin.bearer), 404)
    error(client.delete(f"{USERS}/{bob_id}", headers=admin.bearer), 404)
    # The organization only Bob belonged to went with him.
    assert solo["slug"] in [
        e["details"].get("slug") for e in audit(client, admin, action="org.deleted")
    ]

    # The log keeps what the account did, by its id, and says who deleted it.
    [deleted] = audit(client, admin, action="user.deleted")
    assert deleted["target_id"] == bob_id
    assert deleted["actor_id"] == user_id(client, admin)
    assert deleted["details"]["username"] == bob.username
    assert deleted["details"]["credentials"] == 2
    assert deleted["details"]["orgs_deleted"] == [solo["slug"]]
    kept = audit(client, admin, user=bob_id)
    assert {"user.created", "access_token.created", "user.deleted"} <= {
        e["action"] for e in kept
    }

    # The username is free again, with no lockout left over.
    again = client.post(
        USERS,
        headers=admin.bearer,
        json={"username": bob.username, "password": PASSWORD},
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] != bob_id
    assert actions.login(bob.username).access_token


def test_the_only_owner_of_an_org_with_members_is_refused(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    owner = actions.user()
    owner_id = user_id(client, owner)
    org = actions.make_org(owner)
    member = actions.org_member(owner, org["slug"])
    pat = actions.bearer(actions.make_pat(owner)["token"])

    refused = error(client.delete(f"{USERS}/{owner_id}", headers=admin.bearer), 409)
    assert org["slug"] in refused["error_description"]
    assert "owner" in refused["error_description"]
    error(delete_me(client, owner, PASSWORD), 409)
    # Refused as a whole: nothing revoked, nothing logged.
    for headers in (owner.bearer, pat):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert audit(client, admin, action="user.deleted") == []

    member_id = user_id(client, member)
    promoted = client.patch(
        f"/api/v1/orgs/{org['slug']}/members/{member_id}",
        headers=owner.bearer,
        json={"role": "owner"},
    )
    assert promoted.status_code == 200, promoted.text
    assert client.delete(f"{USERS}/{owner_id}", headers=admin.bearer).status_code == 204
    members = client.get(f"/api/v1/orgs/{org['slug']}/members", headers=member.bearer)
    assert [m["user_id"] for m in members.json()["items"]] == [member_id]


def test_the_last_admin_stays_and_only_admins_delete(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    admin_id = user_id(client, admin)
    described = error(client.delete(f"{USERS}/{admin_id}", headers=admin.bearer), 409)
    assert "last active administrator" in described["error_description"]
    error(delete_me(client, admin, PASSWORD), 409)
    assert client.get("/api/v1/me", headers=admin.bearer).status_code == 200

    bob = actions.user()
    error(client.delete(f"{USERS}/{admin_id}", headers=bob.bearer), 403)
    error(client.delete(f"{USERS}/usr_nobody", headers=admin.bearer), 404)
    clock.advance(STALE)
    stale = client.delete(f"{USERS}/{user_id(client, bob)}", headers=admin.bearer)
    error(stale, 401, "insufficient_user_authentication")


def test_a_person_deletes_their_own_account_with_their_password(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    alice = actions.user()
    alice_id = user_id(client, alice)
    pat = actions.bearer(actions.make_pat(alice)["token"])

    # A PAT is not the person signed in; a wrong password is counted and
    # audited; neither deletes anything.
    error(delete_me(client, pat, PASSWORD), 403)
    error(delete_me(client, alice, "not the password"), 401)
    error(delete_me(client, alice, None), 401)
    assert audit(client, admin, action="password.recheck_failed")
    assert client.get("/api/v1/me", headers=pat).status_code == 200

    clock.advance(STALE)
    error(delete_me(client, alice, PASSWORD), 401, "insufficient_user_authentication")
    alice = actions.login(alice.username)

    assert delete_me(client, alice, PASSWORD).status_code == 204
    for headers in (alice.bearer, pat):
        error(client.get("/api/v1/me", headers=headers), 401)
    [deleted] = audit(client, admin, action="user.deleted")
    assert deleted["actor_id"] == deleted["target_id"] == alice_id


def test_an_account_without_a_password_deletes_itself_on_a_recent_sign_in(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(dev_login_enabled=True)
    with server.client() as http:

        def sign_in(name: str) -> dict[str, str]:
            opened = http.post("/api/v1/auth/dev/login", json={"username": name})
            assert opened.status_code == 200, opened.text
            return {"Authorization": f"Bearer {opened.json()['access_token']}"}

        sign_in("first")  # the first account is the instance's administrator
        name = random_name()
        headers = sign_in(name)
        clock.advance(STALE)
        error(delete_me(http, headers, None), 401, "insufficient_user_authentication")
        headers = sign_in(name)
        assert delete_me(http, headers, None).status_code == 204
        error(http.get("/api/v1/me", headers=headers), 401)


def test_a_verified_address_is_told_of_the_deletion(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    admin = actions.admin()
    by_admin, by_self, unverified = random_email(), random_email(), random_email()
    ada = actions.user(email=by_admin)
    cy = actions.user(email=by_self)
    bob = actions.user(email=unverified)
    for address in (by_admin, by_self):
        mailbox.verify(server, client, address)

    gone = client.delete(f"{USERS}/{user_id(client, ada)}", headers=admin.bearer)
    assert gone.status_code == 204, gone.text
    assert delete_me(client, cy, PASSWORD).status_code == 204
    assert delete_me(client, bob, PASSWORD).status_code == 204

    told = mailbox.last(server, by_admin, "account_deleted")
    assert (told.values["username"], told.values["by_admin"]) == (ada.username, "yes")
    assert mailbox.last(server, by_self, "account_deleted").values["by_admin"] == ""
    # An address nobody proved may be anyone's: it is told nothing.
    assert [m.template for m in mailbox.messages(server, unverified)] == [
        "verify_email"
    ]


def test_export_holds_the_persons_data_and_no_secret(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    alice_id = user_id(client, alice)
    made = actions.make_pat(alice, scopes=["read"])
    key = actions.make_key(alice)
    org = actions.make_org(alice)

    response = client.get("/api/v1/me/export", headers=alice.bearer)
    assert response.status_code == 200, response.text
    for secret in (made["token"], key["token"], PASSWORD, "argon2", "hash"):
        assert secret not in response.text
    body = response.json()
    assert body["profile"]["id"] == alice_id
    assert body["profile"]["username"] == alice.username
    assert body["profile"]["has_password"] is True
    assert len(body["sessions"]) == 1
    [token] = body["access_tokens"]
    assert token["id"] == made["id"]
    assert token["display_prefix"] == made["display_prefix"]
    assert token["scopes"] == ["read"]
    assert [k["id"] for k in body["api_keys"]] == [key["id"]]
    assert [(o["slug"], o["role"]) for o in body["orgs"]] == [(org["slug"], "owner")]
    actions_logged = [e["action"] for e in body["audit"]]
    assert {"user.created", "access_token.created", "org.created"} <= set(
        actions_logged
    )
    assert all(alice_id in (e["actor_id"], e["target_id"]) for e in body["audit"]), (
        body["audit"]
    )

    # Someone else's export holds none of it; an org's API key gets none.
    bob = actions.user()
    other = client.get("/api/v1/me/export", headers=bob.bearer).json()
    assert alice_id not in str(other)
    error(client.get("/api/v1/me/export", headers=actions.bearer(key["token"])), 403)
