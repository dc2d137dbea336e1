"""``/admin/…`` without a browser: who gets in, the refusals every form post
passes through (origin, form token, the admin role read again in the
transaction), the last-admin rule, bad input answered in words, and nothing
secret on any page. The flows themselves run in Chromium
(tests/e2e/browser/test_admin_console.py)."""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import update

from authgate.storage.db import Tx
from authgate.storage.models.users import UserRow
from authgate.web.security import SESSION_COOKIE, csrf_token
from tests.support import db, mailbox
from tests.support.actions import Actions, Login, random_name
from tests.support.live import LiveServer
from tests.support.pages import OpenPages, Pages

PAGES = (
    "/admin/users",
    "/admin/users/new",
    "/admin/invites",
    "/admin/audit",
    "/admin/clients",
    "/admin/keys",
)


@pytest.fixture
def as_user(open_pages: OpenPages) -> Callable[[Login], Pages]:
    return lambda login: open_pages(login, "/admin/users")


@pytest.fixture
def admin(actions: Actions, as_user: Callable[[Login], Pages]) -> Pages:
    return as_user(actions.admin())


def me(actions: Actions, login: Login) -> dict[str, Any]:
    return dict(actions.client.get("/api/v1/me", headers=login.bearer).json())


def form_token_of(server: LiveServer, login: Login) -> str:
    """The form token a signed-in page would give this session: what a
    non-admin can always get from their own pages."""
    services = server.app.state.services
    return csrf_token(services.derived_key("csrf"), login.cookies[SESSION_COOKIE])


def audit(
    actions: Actions, as_admin: Login | None = None, **params: str
) -> list[dict[str, Any]]:
    response = actions.client.get(
        "/api/v1/admin/audit",
        headers=(as_admin or actions.admin()).bearer,
        params=params,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.Client) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login?" + urlencode({"next": path})
    home = client.get("/admin")
    assert home.status_code == 303
    assert home.headers["location"] == "/admin/users"


def test_people_who_are_not_admins_get_403(
    actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    admin_name = actions.admin().username
    pages = as_user(actions.user())
    for path in PAGES:
        response = pages.get(path)
        assert response.status_code == 403, path
        assert "instance administrators" in response.text
        assert admin_name not in response.text  # nothing of the console shows


def test_forged_posts_by_a_non_admin_change_nothing(
    server: LiveServer, actions: Actions, as_user: Callable[[Login], Pages]
) -> None:
    admin = actions.admin()
    member = actions.user()
    pages = as_user(member)
    token = form_token_of(server, member)
    admin_id = me(actions, admin)["id"]
    member_id = me(actions, member)["id"]
    name = random_name()
    attempts = {
        "/admin/users": {"username": name, "password": "a long enough passphrase"},
        f"/admin/users/{admin_id}/disable": {},
        f"/admin/users/{member_id}/grant-admin": {},
        f"/admin/users/{admin_id}/password": {"password": "taken over at last"},
        "/admin/invites": {},
        "/admin/clients": {"name": "Forged"},
        "/admin/keys/rotate": {},
    }
    for path, data in attempts.items():
        response = pages.post(path, data, token=token)
        assert response.status_code == 403, path
        assert "instance administrators" in response.text

    assert me(actions, member)["is_admin"] is False
    assert me(actions, admin)["is_admin"] is True
    actions.login(admin.username)  # signs in: neither disabled nor re-passworded
    assert db.user(server.app.state.services.settings.sqlalchemy_url, name) is None
    assert audit(actions, user=member_id, action="user.admin_granted") == []
    assert audit(actions, action="signing_keys.rotated") == []
    assert audit(actions, action="oauth_client.registered") == []
    # The one invite is the one actions.user() used.
    assert len(audit(actions, action="invite.created")) == 1


@pytest.mark.parametrize(
    ("token", "origin"),
    [
        ("", None),
        ("not-the-token", None),
        (None, "https://evil.example"),
    ],
    ids=["no token", "wrong token", "other origin"],
)
def test_an_admins_post_needs_the_token_and_this_origin(
    server: LiveServer,
    actions: Actions,
    admin: Pages,
    token: str | None,
    origin: str | None,
) -> None:
    name = random_name()
    response = admin.post(
        "/admin/users",
        {"username": name, "password": "a long enough passphrase"},
        token=token,
        origin=origin,
    )
    assert response.status_code == 403
    assert db.user(server.app.state.services.settings.sqlalchemy_url, name) is None


def test_a_role_revoked_meanwhile_stops_the_change(
    server: LiveServer, actions: Actions, admin: Pages
) -> None:
    """The role is read again inside the change's transaction: here it went
    behind every cache's back, so only that read can catch it."""
    login = actions.admin()
    assert admin.get("/admin/users").status_code == 200  # the user is cached now
    url = server.app.state.services.settings.sqlalchemy_url
    token = admin.token()

    async def demote(tx: Tx) -> None:
        await tx.session.execute(
            update(UserRow)
            .where(UserRow.username == login.username)
            .values(is_admin=False)
        )

    db.run(url, demote)
    name = random_name()
    response = admin.post(
        "/admin/users",
        {"username": name, "password": "a long enough passphrase"},
        token=token,
    )
    assert response.status_code == 403
    assert "instance administrators" in response.text
    assert db.user(url, name) is None


def test_the_last_admin_stays(
    actions: Actions, admin: Pages, as_user: Callable[[Login], Pages]
) -> None:
    login = actions.admin()
    admin_id = me(actions, login)["id"]
    for action in ("revoke-admin", "disable"):
        response = admin.post(f"/admin/users/{admin_id}/{action}")
        assert response.status_code == 409, action
        assert "last active administrator" in response.text
        assert 'role="alert"' in response.text
    assert me(actions, login)["is_admin"] is True

    other = actions.user()
    other_id = me(actions, other)["id"]
    assert admin.post(f"/admin/users/{other_id}/grant-admin").status_code == 303
    response = admin.post(f"/admin/users/{admin_id}/revoke-admin")
    assert response.status_code == 303
    assert me(actions, login)["is_admin"] is False
    assert me(actions, other)["is_admin"] is True
    # Now the other one is the last.
    second = as_user(other)
    response = second.post(f"/admin/users/{other_id}/revoke-admin")
    assert response.status_code == 409
    events = [e["action"] for e in audit(actions, other, user=admin_id)]
    assert "user.admin_revoked" in events


def test_text_no_database_can_hold_is_refused(server: LiveServer, admin: Pages) -> None:
    assert admin.get("/admin/users", q="a\x00b").status_code == 400
    assert admin.get("/admin/audit", user="\x00").status_code == 400
    name = "bad\x00name"
    response = admin.post(
        "/admin/users", {"username": name, "password": "a long enough passphrase"}
    )
    assert response.status_code == 400
    assert "not text" in response.text


@pytest.mark.parametrize(
    ("days", "words"),
    [("0", "1 to 365 days"), ("366", "1 to 365 days"), ("soon", "whole number")],
)
def test_an_invites_expiry_is_checked(
    actions: Actions, admin: Pages, days: str, words: str
) -> None:
    response = admin.post("/admin/invites", {"expires_in_days": days})
    assert response.status_code == 400
    assert words in response.text
    assert audit(actions, action="invite.created") == []


def test_bad_input_is_answered_inline(admin: Pages) -> None:
    cases = [
        ("/admin/users", {"username": "x", "password": "a long enough passphrase"}),
        ("/admin/users", {"username": random_name(), "password": "short"}),
        ("/admin/clients", {"name": "App", "redirect_uris": "http://evil.example/cb"}),
        (
            "/admin/clients",
            {"name": "App", "kind": "public", "grant_types": "client_credentials"},
        ),
    ]
    for path, data in cases:
        response = admin.post(path, data)
        assert response.status_code == 400, (path, data)
        assert 'role="alert"' in response.text
        assert "Traceback" not in response.text
    response = admin.get("/admin/audit", since="yesterday")
    assert response.status_code == 400
    assert "From is not a date and time" in response.text
    response = admin.get("/admin/audit", user="nobody-here")
    assert response.status_code == 400
    assert "No user is named nobody-here" in response.text


def shown(html: str, element_id: str) -> str:
    """The secret a page shows once, in ``<code id=…>``."""
    match = re.search(
        rf'<code class="secret" id="{element_id}"[^>]*>([^<]+)</code>', html
    )
    assert match, html
    return match[1]


def test_nothing_secret_is_rendered(
    server: LiveServer, actions: Actions, admin: Pages
) -> None:
    created = admin.post("/admin/clients", {"name": "Service"})
    assert created.status_code == 200
    secret = shown(created.text, "new-client-secret")
    assert secret.startswith("ag_cs_")
    code = shown(admin.post("/admin/invites", {}).text, "invite-code")
    assert code.startswith("ag_inv_")

    url = server.app.state.services.settings.sqlalchemy_url
    password_hash = db.user(url, actions.admin().username).password_hash
    admin_id = me(actions, actions.admin())["id"]
    for path in (*PAGES, f"/admin/users/{admin_id}", "/admin/audit"):
        text = admin.get(path).text
        assert secret not in text, path
        assert code not in text, path
        assert password_hash not in text, path
        assert "$argon2" not in text, path
        assert "PRIVATE KEY" not in text, path


def test_every_console_action_is_audited_with_the_admin_as_actor(
    actions: Actions, admin: Pages
) -> None:
    admin_id = me(actions, actions.admin())["id"]
    name = random_name()
    created = admin.post(
        "/admin/users", {"username": name, "password": "a long enough passphrase"}
    )
    assert created.status_code == 303
    user_path = created.headers["location"].split("?")[0]
    for action in ("disable", "enable", "grant-admin", "revoke-admin"):
        assert admin.post(f"{user_path}/{action}").status_code == 303, action
    reset = admin.post(f"{user_path}/password", {"password": "another passphrase"})
    assert reset.status_code == 303
    invite = admin.post("/admin/invites", {"expires_in_days": "3"})
    invite_id = re.search(r'action="/admin/invites/([^/]+)/revoke"', invite.text)
    assert invite_id
    assert admin.post(f"/admin/invites/{invite_id[1]}/revoke").status_code == 303
    client = admin.post("/admin/clients", {"name": "Audited"})
    client_id = shown(client.text, "new-client-id")
    deleted = admin.post("/admin/clients/delete", {"client_id": client_id})
    assert deleted.status_code == 303
    assert admin.post("/admin/keys/rotate").status_code == 303

    mine = {
        e["action"]
        for e in audit(actions, user=admin_id, limit="200")
        if e["actor_id"] == admin_id
    }
    assert {
        "user.created",
        "user.disabled",
        "user.credentials_revoked",
        "user.enabled",
        "user.admin_granted",
        "user.admin_revoked",
        "password.reset",
        "invite.created",
        "invite.revoked",
        "oauth_client.registered",
        "oauth_client.deleted",
        "signing_keys.rotated",
    } <= mine


def test_an_unknown_account_is_not_found(admin: Pages) -> None:
    assert admin.get("/admin/users/usr_doesnotexist").status_code == 404
    response = admin.post("/admin/users/usr_doesnotexist/disable")
    assert response.status_code == 404
    assert "No such user." in response.text


def test_creating_an_administrator(
    server: LiveServer, actions: Actions, admin: Pages
) -> None:
    name = random_name()
    created = admin.post(
        "/admin/users",
        {
            "username": name,
            "email": f"{name}@example.com",
            "password": "a long enough passphrase",
            "is_admin": "true",
        },
    )
    assert created.status_code == 303
    assert "done=created" in created.headers["location"]
    stored = db.user(server.app.state.services.settings.sqlalchemy_url, name)
    assert stored.is_admin is True
    assert stored.email == f"{name}@example.com"
    assert me(actions, actions.login(name, "a long enough passphrase"))["is_admin"]


def test_a_new_account_is_verified_only_when_the_admin_says_so(
    server: LiveServer, actions: Actions, admin: Pages
) -> None:
    def create(email: str, **more: str) -> dict[str, Any]:
        name = random_name()
        fields = {"username": name, "password": "a long enough passphrase"}
        response = admin.post("/admin/users", {**fields, "email": email, **more})
        assert response.status_code == 303, response.text
        page = admin.get(response.headers["location"])
        return {"page": page.text, "mail": mailbox.messages(server, email)}

    vouched = create(f"{random_name()}@example.com", email_verified="true")
    assert "(verified)" in vouched["page"]
    assert vouched["mail"] == []
    unvouched = create(f"{random_name()}@example.com")
    assert "(not verified)" in unvouched["page"]
    assert [m.template for m in unvouched["mail"]] == ["verify_email"]
