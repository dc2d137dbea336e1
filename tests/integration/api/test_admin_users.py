"""``/api/v1/admin/users``: administrators find, create, change and reset the
passwords of accounts; the same rules as ``authgate admin`` and the console,
every change audited, nothing of a password ever in an answer."""

from typing import Any

import httpx

from tests.support.actions import PASSWORD, Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.totp import enrol

USERS = "/api/v1/admin/users"
FIELDS = {
    "id",
    "username",
    "email",
    "is_admin",
    "active",
    "disabled_at",
    "created_at",
    "default_org_id",
    "email_verified",
    "new_email",
}
NEW_PASSWORD = "another horse battery staple"


def no_password(response: httpx.Response) -> None:
    """No hash, no hash parameters, no password field, whatever the answer."""
    for leak in ("argon2", "password_hash", PASSWORD, NEW_PASSWORD):
        assert leak not in response.text, response.text


def account(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    no_password(response)
    body = dict(response.json())
    assert set(body) == FIELDS, body
    return body


def create(http: httpx.Client, admin: Login, **body: Any) -> dict[str, Any]:
    values = {"username": random_name(), "password": PASSWORD, **body}
    return account(http.post(USERS, headers=admin.bearer, json=values), 201)


def audit(http: httpx.Client, admin: Login, action: str) -> list[dict[str, Any]]:
    response = http.get(
        "/api/v1/admin/audit", headers=admin.bearer, params={"action": action}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def me(http: httpx.Client, login: Login) -> httpx.Response:
    return http.get("/api/v1/me", headers=login.bearer)


def test_create_then_get_an_account(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    admin_id = me(client, admin).json()["id"]
    name = random_name()
    made = create(client, admin, username=name.upper(), email=f"{name}@Example.COM")
    assert made["username"] == name  # normalised as everywhere
    assert made["email"] == f"{name}@example.com"
    assert made["is_admin"] is False
    assert made["active"] is True
    assert made["disabled_at"] is None
    assert made["id"].startswith("usr_")
    assert account(client.get(f"{USERS}/{made['id']}", headers=admin.bearer)) == made

    # camelCase in, an administrator out; both can sign in.
    other = create(client, admin, isAdmin=True)
    assert other["is_admin"] is True
    assert actions.login(name).access_token
    assert me(client, actions.login(other["username"])).json()["is_admin"] is True

    created = audit(client, admin, "user.created")
    mine = {e["target_id"]: e for e in created if e["target_id"] != admin_id}
    assert {e["actor_id"] for e in mine.values()} == {admin_id}
    assert set(mine) == {made["id"], other["id"]}
    assert mine[other["id"]]["details"] == {
        "username": other["username"],
        "is_admin": True,
    }


def test_create_refuses_bad_input_and_writes_nothing(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    taken = create(client, admin)["username"]
    tag = random_name("bad")
    bad = "invalid_request"
    refused: list[tuple[dict[str, Any], int, str]] = [
        ({"username": tag, "password": "short"}, 400, "weak_password"),
        ({"username": tag, "password": "password1234"}, 400, "weak_password"),
        ({"username": tag, "password": f"x{tag}x-long-enough"}, 400, "weak_password"),
        ({"username": "-no", "password": PASSWORD}, 400, bad),
        ({"username": tag, "password": PASSWORD, "email": "nope"}, 400, bad),
        ({"username": tag, "password": PASSWORD, "is_admin": "yes"}, 400, bad),
        ({"username": tag}, 400, bad),
        ({"password": PASSWORD}, 400, bad),
        ({"username": taken.upper(), "password": PASSWORD}, 409, "conflict"),
    ]
    for body, status, code in refused:
        response = client.post(USERS, headers=admin.bearer, json=body)
        described = error(response, status, code)
        assert PASSWORD not in described["error_description"]
    missing = client.post(USERS, headers=admin.bearer, json={"username": tag})
    assert "'password' is required" in error(missing, 400)["error_description"]
    error(client.post(USERS, headers=admin.bearer, content=b"{"), 400)
    found = client.get(USERS, headers=admin.bearer, params={"q": tag})
    assert found.json()["items"] == []
    assert len(audit(client, admin, "user.created")) == 2  # the admin, `taken`


def test_search_and_pages(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    tag = random_name("find")
    made = [create(client, admin, username=f"{tag}-{i}") for i in range(5)]
    by_mail = create(client, admin, email=f"{tag}@mail.example.com")
    create(client, admin)  # matches nothing below

    def page(**params: Any) -> dict[str, Any]:
        response = client.get(USERS, headers=admin.bearer, params=params)
        assert response.status_code == 200, response.text
        no_password(response)
        body = dict(response.json())
        assert set(body) == {"items", "next_cursor"}
        for item in body["items"]:
            assert set(item) == FIELDS
        return body

    everyone = page(q=tag.upper())["items"]  # case ignored, email matched too
    assert {u["id"] for u in everyone} == {u["id"] for u in [*made, by_mail]}
    assert [u["username"] for u in everyone] == sorted(u["username"] for u in everyone)
    assert [u["id"] for u in page(q="mail.example")["items"]] == [by_mail["id"]]
    assert page(q="%")["items"] == []  # a LIKE wildcard matches only itself

    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": tag, "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = page(**params)
        assert len(body["items"]) <= 2
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [u["id"] for u in everyone]  # each once, in order
    assert page(q=tag, limit=6)["next_cursor"] is None  # no empty last page

    for params in ({"limit": 0}, {"limit": 201}, {"limit": "x"}, {"q": "x" * 321}):
        error(client.get(USERS, headers=admin.bearer, params=params), 400)


def test_disable_refuses_every_credential_at_once(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    user = actions.user()
    user_id = me(client, user).json()["id"]
    pat = actions.make_pat(user)["token"]
    assert me(client, user).status_code == 200  # cached verifications now
    assert client.get("/api/v1/me", headers=actions.bearer(pat)).status_code == 200

    disabled = account(
        client.patch(f"{USERS}/{user_id}", headers=admin.bearer, json={"active": False})
    )
    assert disabled["active"] is False
    assert disabled["disabled_at"] is not None
    error(me(client, user), 401)
    error(client.get("/api/v1/me", headers=actions.bearer(pat)), 401)
    login = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    error(login, 401)

    enabled = account(
        client.patch(f"{USERS}/{user_id}", headers=admin.bearer, json={"active": True})
    )
    assert enabled["active"] is True
    assert enabled["disabled_at"] is None
    # Enabled again, the account holds nothing from before.
    error(me(client, user), 401)
    error(client.get("/api/v1/me", headers=actions.bearer(pat)), 401)
    assert me(client, actions.login(user.username)).status_code == 200

    for action in ("user.disabled", "user.credentials_revoked", "user.enabled"):
        [event] = audit(client, admin, action)
        assert event["target_id"] == user_id
        assert event["actor_id"] == me(client, admin).json()["id"]


def test_grant_and_revoke_admin_hold_from_the_next_request(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    user = actions.user()
    user_id = me(client, user).json()["id"]
    error(client.get(USERS, headers=user.bearer), 403, "forbidden")

    path = f"{USERS}/{user_id}"
    granted = account(client.patch(path, headers=admin.bearer, json={"isAdmin": True}))
    assert granted["is_admin"] is True
    assert client.get(USERS, headers=user.bearer).status_code == 200
    # Asking for what already holds changes nothing and logs nothing.
    again = client.patch(path, headers=admin.bearer, json={"is_admin": True})
    assert account(again) == granted
    assert len(audit(client, admin, "user.admin_granted")) == 1

    revoked = account(
        client.patch(path, headers=admin.bearer, json={"is_admin": False})
    )
    assert revoked["is_admin"] is False
    error(client.get(USERS, headers=user.bearer), 403, "forbidden")
    assert [e["target_id"] for e in audit(client, admin, "user.admin_revoked")] == [
        user_id
    ]


def test_the_last_active_admin_stays(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    admin_id = me(client, admin).json()["id"]
    path = f"{USERS}/{admin_id}"
    for body in (
        {"is_admin": False},
        {"active": False},
        {"isAdmin": False, "active": False},
    ):
        described = error(client.patch(path, headers=admin.bearer, json=body), 409)
        assert described["error"] == "conflict"
        assert "last active administrator" in described["error_description"]
    still = account(client.get(path, headers=admin.bearer))
    assert still["is_admin"] is True
    assert still["active"] is True

    # With a second admin, the first may step down (and the second may not).
    second = create(client, admin, is_admin=True)
    assert (
        account(client.patch(path, headers=admin.bearer, json={"is_admin": False}))[
            "is_admin"
        ]
        is False
    )
    other = actions.login(second["username"])
    error(
        client.patch(
            f"{USERS}/{second['id']}", headers=other.bearer, json={"active": False}
        ),
        409,
        "conflict",
    )


def test_change_refuses_bad_input(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    target = create(client, admin)
    path = f"{USERS}/{target['id']}"
    body: object
    for body in (
        {},
        {"is_admin": None},
        {"active": "false"},
        {"is_admin": 1},
        {"username": "renamed"},
        {"active": False, "password": "x"},
        [],
    ):
        error(
            client.patch(path, headers=admin.bearer, json=body), 400, "invalid_request"
        )
    assert account(client.get(path, headers=admin.bearer)) == target
    error(
        client.patch(f"{USERS}/usr_nope", headers=admin.bearer, json={"active": False}),
        404,
        "not_found",
    )
    error(client.get(f"{USERS}/usr_nope", headers=admin.bearer), 404, "not_found")
    error(client.get(f"{USERS}/{'x' * 65}", headers=admin.bearer), 400)


def test_reset_password_ends_the_sessions(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    user = actions.user()
    user_id = me(client, user).json()["id"]
    reset = f"{USERS}/{user_id}/reset-password"

    for body, code in (
        ({"new_password": "short"}, "weak_password"),
        ({"new_password": user.username + "-and-more"}, "weak_password"),
        ({}, "invalid_request"),
    ):
        error(client.post(reset, headers=admin.bearer, json=body), 400, code)
    assert me(client, user).status_code == 200  # refused: nothing changed

    done = client.post(reset, headers=admin.bearer, json={"newPassword": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    assert done.content == b""
    error(me(client, user), 401)  # the session ended
    old = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    error(old, 401)
    assert actions.login(user.username, NEW_PASSWORD).access_token
    [event] = audit(client, admin, "password.reset")
    assert event["target_id"] == user_id
    assert event["actor_id"] == me(client, admin).json()["id"]

    missing = f"{USERS}/usr_nope/reset-password"
    error(
        client.post(missing, headers=admin.bearer, json={"new_password": NEW_PASSWORD}),
        404,
    )


def test_reset_factors_lets_a_person_who_lost_their_device_back_in(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    user = actions.user()
    user_id = me(client, user).json()["id"]
    enrol(client, user)
    refused = client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert (refused.status_code, refused.json()["error"]) == (401, "mfa_required")
    reset = f"{USERS}/{user_id}/reset-factors"
    error(client.post(reset, headers=user.bearer), 403)
    done = client.post(reset, headers=admin.bearer)
    assert done.status_code == 204, done.text
    error(me(client, user), 401)  # every session ended
    again = actions.login(user.username)  # the password alone, once more
    factors = client.get("/api/v1/me/factors", headers=again.bearer).json()
    assert factors["totp"] is False
    assert factors["recovery_codes_left"] == 0
    [event] = audit(client, admin, "factors.reset")
    assert event["target_id"] == user_id
    assert event["details"]["removed"] == ["totp"]
    error(client.post(f"{USERS}/usr_nope/reset-factors", headers=admin.bearer), 404)


def test_only_administrators_with_write_access(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    target = create(client, admin)
    user = actions.user()
    path = f"{USERS}/{target['id']}"
    calls: list[tuple[str, str, Any]] = [
        ("GET", USERS, None),
        ("GET", path, None),
        ("POST", USERS, {"username": random_name(), "password": PASSWORD}),
        ("PATCH", path, {"active": False}),
        ("POST", f"{path}/reset-password", {"new_password": NEW_PASSWORD}),
    ]
    writes = [c for c in calls if c[0] != "GET"]
    with server.client() as anonymous:
        for method, url, body in calls:
            error(anonymous.request(method, url, json=body), 401, "unauthenticated")
    user_pat = actions.make_pat(user)["token"]
    for headers in (user.bearer, actions.bearer(user_pat)):
        for method, url, body in calls:
            error(
                client.request(method, url, headers=headers, json=body),
                403,
                "forbidden",
            )
    # An administrator's API keys never administer, nor do their tokens
    # without the admin scope (tests/integration/api/test_credential_powers.py).
    for token in (
        actions.make_key(admin, permission="write")["token"],
        actions.make_pat(admin)["token"],
    ):
        for method, url, body in calls:
            response = client.request(
                method, url, headers=actions.bearer(token), json=body
            )
            error(response, 403, "insufficient_scope")
    # A read-only one with the admin scope can look, not touch.
    read_admin = actions.bearer(
        actions.make_pat(admin, scopes=["read", "admin"])["token"]
    )
    assert client.get(path, headers=read_admin).status_code == 200
    for method, url, body in writes:
        response = client.request(method, url, headers=read_admin, json=body)
        error(response, 403, "insufficient_scope")
    assert account(client.get(path, headers=admin.bearer)) == target
    assert actions.login(target["username"]).access_token  # password unchanged
    assert len(audit(client, admin, "user.created")) == 3  # admin, target, user


def test_text_no_database_holds_is_refused(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    for params in ({"q": "a\x00b"}, {"cursor": "a\x00b"}):
        error(client.get(USERS, headers=admin.bearer, params=params), 400)
    for path in (f"{USERS}/usr%00x", f"{USERS}/usr%ED%A0%80"):
        response = client.get(path, headers=admin.bearer)
        assert response.status_code in (400, 404), response.text
        patched = client.patch(path, headers=admin.bearer, json={"active": False})
        assert patched.status_code in (400, 404), patched.text
