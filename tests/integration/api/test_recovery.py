"""Recovery keys: ``POST /api/v1/recovery-key`` makes one (shown once,
replacing the previous one); ``POST /api/v1/auth/recover`` spends it to set a
new password, ending every session. Refusals all look the same."""

from collections.abc import Callable
from typing import Any

import pytest

from authgate.util import tokens
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.tamper import mangle

#: For checks of the HTTP layer and settings alone; whatever touches storage
#: runs on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NEW_PASSWORD = "a brand new passphrase 42"


def make_key(actions: Actions, login: Login, password: str = PASSWORD) -> str:
    response = actions.client.post(
        "/api/v1/recovery-key", headers=login.bearer, json={"password": password}
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"recovery_key"}
    return str(response.json()["recovery_key"])


def recover(
    actions: Actions, username: str, key: str, new_password: str = NEW_PASSWORD
) -> Any:
    return actions.client.post(
        "/api/v1/auth/recover",
        json={"username": username, "recovery_key": key, "new_password": new_password},
    )


def can_login(actions: Actions, username: str, password: str) -> bool:
    response = actions.client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    return response.status_code == 200


def test_a_recovery_key_resets_the_password_once(actions: Actions) -> None:
    alice = actions.user()
    key = make_key(actions, alice)
    parsed = tokens.parse(key)
    assert parsed is not None
    assert parsed.kind == "rec"

    response = recover(actions, alice.username, key)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert not can_login(actions, alice.username, PASSWORD)
    assert can_login(actions, alice.username, NEW_PASSWORD)

    again = recover(actions, alice.username, key, "yet another passphrase 7")
    error(again, 401, "invalid_credentials")
    assert can_login(actions, alice.username, NEW_PASSWORD)


@SQLITE_ONLY
def test_the_username_is_matched_like_at_sign_in(actions: Actions) -> None:
    alice = actions.user()
    key = make_key(actions, alice)
    assert recover(actions, f"  {alice.username.upper()} ", key).status_code == 204
    assert can_login(actions, alice.username, NEW_PASSWORD)


def test_recovery_ends_every_session(server: LiveServer, actions: Actions) -> None:
    alice = actions.user()
    other = actions.login(alice.username)
    for login in (alice, other):  # used, so cached
        assert actions.client.get("/api/v1/me", headers=login.bearer).is_success
    with server.client(cookies=alice.cookies) as browser:
        assert browser.get("/api/v1/me").status_code == 200

        assert recover(actions, alice.username, make_key(actions, alice)).is_success

        error(browser.get("/api/v1/me"), 401)
    for login in (alice, other):
        error(actions.client.get("/api/v1/me", headers=login.bearer), 401)
        response = actions.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": login.refresh_token}
        )
        error(response, 401, "invalid_token")
    fresh = actions.login(alice.username, NEW_PASSWORD)
    response = actions.client.get("/api/v1/sessions", headers=fresh.bearer)
    assert [s["current"] for s in response.json()["items"]] == [True]


def test_a_new_key_replaces_the_old_one(actions: Actions) -> None:
    alice = actions.user()
    old = make_key(actions, alice)
    new = make_key(actions, alice)
    assert old != new
    error(recover(actions, alice.username, old), 401, "invalid_credentials")
    assert can_login(actions, alice.username, PASSWORD)
    assert recover(actions, alice.username, new).status_code == 204


def test_every_refusal_looks_the_same(actions: Actions) -> None:
    alice, bob, carol = actions.user(), actions.user(), actions.user()
    alices = make_key(actions, alice)
    bobs = make_key(actions, bob)
    used = make_key(actions, carol)
    assert recover(actions, carol.username, used).status_code == 204

    attempts = {
        "another user's key": recover(actions, alice.username, bobs),
        "a used key": recover(actions, carol.username, used),
        "a wrong key": recover(actions, alice.username, tokens.mint("ag", "rec")),
        "a mangled key": recover(actions, alice.username, mangle(alices)),
        "not a key": recover(actions, alice.username, "hunter2"),
        "another kind of token": recover(
            actions, alice.username, actions.make_pat(alice)["token"]
        ),
        "an unknown user": recover(actions, "nobody-here", alices),
        "a malformed username": recover(actions, "???", alices),
    }
    first = attempts["a wrong key"]
    for why, response in attempts.items():
        error(response, 401, "invalid_credentials")
        assert response.json() == first.json(), why
        assert response.headers.get("www-authenticate") == first.headers.get(
            "www-authenticate"
        ), why
    # Nothing was spent or changed by the refusals.
    assert can_login(actions, alice.username, PASSWORD)
    assert can_login(actions, bob.username, PASSWORD)
    assert recover(actions, alice.username, alices).status_code == 204
    assert recover(actions, bob.username, bobs).status_code == 204


def test_a_weak_new_password_costs_no_key(actions: Actions) -> None:
    alice = actions.user()
    key = make_key(actions, alice)
    for weak in ("short", "password1234", alice.username + "-long-enough"):
        error(recover(actions, alice.username, key, weak), 400, "weak_password")
    assert can_login(actions, alice.username, PASSWORD)
    assert recover(actions, alice.username, key).status_code == 204


@SQLITE_ONLY
def test_making_a_key_needs_the_current_password_and_a_person(
    server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    response = actions.client.post(
        "/api/v1/recovery-key",
        headers=alice.bearer,
        json={"password": "not my password at all"},
    )
    error(response, 401, "invalid_credentials")
    error(
        actions.client.post("/api/v1/recovery-key", headers=alice.bearer, json={}),
        400,
        "invalid_request",
    )
    for token in (
        actions.make_pat(alice)["token"],
        actions.make_key(alice, permission="write")["token"],
    ):
        response = actions.client.post(
            "/api/v1/recovery-key",
            headers=Actions.bearer(token),
            json={"password": PASSWORD},
        )
        error(response, 403, "forbidden")
    with server.client() as anonymous:
        response = anonymous.post("/api/v1/recovery-key", json={"password": PASSWORD})
        error(response, 401)


@SQLITE_ONLY
def test_recovery_is_rate_limited(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(rate_limit_enabled=True, login_rate_limit_per_minute=3)
    with server.client() as http:
        actions = Actions(http)
        alice = actions.user()
        key = make_key(actions, alice)
        for _ in range(3):
            wrong = recover(actions, alice.username, tokens.mint("ag", "rec"))
            error(wrong, 401, "invalid_credentials")
        limited = recover(actions, alice.username, key)
        error(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) > 0
        # Refused before the key was looked at: it is still unspent.
        assert can_login(actions, alice.username, PASSWORD)


def test_recovery_is_audited_without_the_key(actions: Actions) -> None:
    alice = actions.user()
    key = make_key(actions, alice)
    recover(actions, alice.username, tokens.mint("ag", "rec"))
    assert recover(actions, alice.username, key).status_code == 204

    user_id = actions.client.get(
        "/api/v1/me", headers=actions.login(alice.username, NEW_PASSWORD).bearer
    ).json()["id"]
    response = actions.client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"user": user_id, "limit": 200},
    )
    assert response.status_code == 200
    events = response.json()["items"]
    actions_seen = [e["action"] for e in events]
    for action in (
        "recovery_key.created",
        "recovery_key.failed",
        "recovery_key.used",
        "password.reset",
    ):
        assert action in actions_seen, actions_seen
    [failed] = [e for e in events if e["action"] == "recovery_key.failed"]
    assert failed["actor_id"] == user_id
    assert key not in response.text
    assert key[len("ag_rec_") :] not in response.text
