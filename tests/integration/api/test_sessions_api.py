"""``/api/v1/sessions``: a person's own signed-in devices, and ending them one
at a time or all at once."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.actions import PASSWORD, Actions, Login
from tests.support.asserts import error
from tests.support.geoip import LONDON, LONDON_IP, city_db
from tests.support.live import LiveServer

#: For checks of the HTTP layer and settings alone; whatever touches storage
#: runs on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
CLI = "authgate-cli/0.1.0 (python-httpx)"
FIELDS = {"id", "device", "ip", "location", "created_at", "last_active_at", "current"}


def sign_in(actions: Actions, username: str, **headers: str) -> Login:
    response = actions.client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": PASSWORD},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Login(
        username,
        body["access_token"],
        body["refresh_token"],
        body,
        response.cookies,
    )


def sessions(actions: Actions, login: Login) -> list[dict[str, Any]]:
    response = actions.client.get("/api/v1/sessions", headers=login.bearer)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def works(actions: Actions, login: Login) -> bool:
    return actions.client.get("/api/v1/me", headers=login.bearer).status_code == 200


def refreshes(actions: Actions, login: Login) -> bool:
    response = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.refresh_token}
    )
    return response.status_code == 200


def cookie_works(server: LiveServer, login: Login) -> bool:
    with server.client(cookies=login.cookies) as browser:
        return browser.get("/api/v1/me").status_code == 200


def test_lists_each_device_and_marks_the_current_one(actions: Actions) -> None:
    name = actions.user().username
    laptop = sign_in(actions, name, **{"User-Agent": CHROME_MAC})
    cli = sign_in(actions, name, **{"User-Agent": CLI})

    found = sessions(actions, laptop)
    assert len(found) == 3  # actions.user() signed in once too
    for item in found:
        assert set(item) == FIELDS
        assert item["ip"] == "127.0.0.1"
        assert item["location"] is None  # no AUTHGATE_GEOIP_DB
        assert item["created_at"]
        assert item["last_active_at"]
    by_device = {s["device"]: s for s in found}
    assert {"Chrome/macOS", "authgate-cli"} <= set(by_device)
    assert [s["current"] for s in found].count(True) == 1
    assert by_device["Chrome/macOS"]["current"] is True

    from_cli = {s["device"]: s["current"] for s in sessions(actions, cli)}
    assert from_cli["authgate-cli"] is True
    assert from_cli["Chrome/macOS"] is False


@SQLITE_ONLY
def test_current_is_known_from_the_cookie_too(
    server: LiveServer, actions: Actions
) -> None:
    name = actions.user().username
    browser = sign_in(actions, name, **{"User-Agent": CHROME_MAC})
    with server.client(cookies=browser.cookies) as http:
        response = http.get("/api/v1/sessions")
    assert response.status_code == 200, response.text
    [current] = [s for s in response.json()["items"] if s["current"]]
    assert current["device"] == "Chrome/macOS"


def test_location_comes_from_the_geoip_database(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server(
        geoip_db=city_db(tmp_path / "city.mmdb"), trusted_proxies=["127.0.0.1"]
    )
    with server.client() as http:
        actions = Actions(http)
        name = actions.user().username
        # The test is the trusted proxy in front, naming the client.
        travelling = sign_in(actions, name, **{"X-Forwarded-For": LONDON_IP})
        found = sessions(actions, travelling)
    by_ip = {s["ip"]: s for s in found}
    assert by_ip[LONDON_IP]["location"] == LONDON
    assert by_ip[LONDON_IP]["current"] is True
    assert by_ip["127.0.0.1"]["location"] is None  # loopback is never looked up


@SQLITE_ONLY
def test_a_broken_geoip_file_does_not_break_the_list(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database")
    server = start_server(geoip_db=broken, trusted_proxies=["127.0.0.1"])
    with server.client() as http:
        actions = Actions(http)
        login = sign_in(
            actions, actions.user().username, **{"X-Forwarded-For": LONDON_IP}
        )
        assert {s["location"] for s in sessions(actions, login)} == {None}


def test_ending_one_session_leaves_the_others(
    server: LiveServer, actions: Actions
) -> None:
    name = actions.user().username
    phone = sign_in(actions, name)
    laptop = sign_in(actions, name)
    assert works(actions, phone)  # cached before it is ended
    assert cookie_works(server, phone)
    [phone_id] = [s["id"] for s in sessions(actions, phone) if s["current"]]

    response = actions.client.delete(
        f"/api/v1/sessions/{phone_id}", headers=laptop.bearer
    )
    assert response.status_code == 204, response.text
    assert not works(actions, phone)
    assert not cookie_works(server, phone)
    assert not refreshes(actions, phone)
    assert works(actions, laptop)
    assert phone_id not in {s["id"] for s in sessions(actions, laptop)}

    user_id = actions.client.get("/api/v1/me", headers=laptop.bearer).json()["id"]
    audit = actions.client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"user": user_id, "action": "session.revoked"},
    ).json()["items"]
    assert [e["target_id"] for e in audit] == [phone_id]


def test_ending_the_current_session_signs_out(actions: Actions) -> None:
    login = sign_in(actions, actions.user().username)
    [current] = [s["id"] for s in sessions(actions, login) if s["current"]]
    response = actions.client.delete(
        f"/api/v1/sessions/{current}", headers=login.bearer
    )
    assert response.status_code == 204
    assert "ag_session" in response.headers.get("set-cookie", "")  # cleared
    error(actions.client.get("/api/v1/me", headers=login.bearer), 401)
    assert not refreshes(actions, login)


def test_revoke_all_ends_every_session_and_its_refresh_tokens(
    server: LiveServer, actions: Actions
) -> None:
    name = actions.user().username
    logins = [sign_in(actions, name) for _ in range(3)]
    for login in logins:
        assert works(actions, login)
    caller = logins[0]

    response = actions.client.post("/api/v1/sessions/revoke-all", headers=caller.bearer)
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 4}  # actions.user() signed in once too
    for login in logins:  # the caller's own included
        assert not works(actions, login)
        assert not cookie_works(server, login)
        assert not refreshes(actions, login)

    fresh = sign_in(actions, name)
    assert [s["current"] for s in sessions(actions, fresh)] == [True]


def test_one_user_cannot_see_or_end_anothers_sessions(
    server: LiveServer, actions: Actions
) -> None:
    alice, bob = actions.user(), actions.user()
    alices = {s["id"] for s in sessions(actions, alice)}
    bobs = {s["id"] for s in sessions(actions, bob)}
    assert alices
    assert bobs
    assert not alices & bobs

    bob_pat = actions.make_pat(bob)["token"]
    for guess in [*alices, "ses_doesnotexist"]:
        for headers in (bob.bearer, Actions.bearer(bob_pat)):
            response = actions.client.delete(
                f"/api/v1/sessions/{guess}", headers=headers
            )
            error(response, 404, "not_found")
    assert works(actions, alice)
    assert {s["id"] for s in sessions(actions, alice)} == alices

    # Ending all of bob's touches none of alice's.
    response = actions.client.post("/api/v1/sessions/revoke-all", headers=bob.bearer)
    assert response.status_code == 200
    assert works(actions, alice)
    assert refreshes(actions, alice)
