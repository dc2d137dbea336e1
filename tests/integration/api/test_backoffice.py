"""The back office (``/bo``): there only when ``AUTHGATE_BACKOFFICE_API_KEY`` is
set, opened only by that key, and able to stop a user's every credential at
once."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from authgate.guard import VerificationCache
from tests.conftest import MakeSettings
from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer

#: For checks of the HTTP layer and settings alone; whatever touches storage
#: runs on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BO_KEY = "bo-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BO = {"Authorization": f"Bearer {BO_KEY}"}


@dataclass
class Rig:
    server: LiveServer
    http: httpx.Client
    actions: Actions

    def bo(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self.server.client() as fresh:  # no cookies from the jar
            return fresh.request(method, path, headers=BO, **kwargs)


@pytest.fixture
def rig(start_server: Callable[..., LiveServer]) -> Iterator[Rig]:
    server = start_server(backoffice_api_key=BO_KEY)
    with server.client() as http:
        yield Rig(server, http, Actions(http))


@dataclass
class Holdings:
    """Every kind of credential one user can hold, each used once (so cached)."""

    login: Login
    user_id: str
    pat: str
    key: str

    def headers(self) -> dict[str, dict[str, str]]:
        return {
            "jwt": self.login.bearer,
            "pat": Actions.bearer(self.pat),
            "api key": {"X-API-Key": self.key},
        }


def holdings(rig: Rig) -> Holdings:
    login = rig.actions.user()
    pat = rig.actions.make_pat(login)["token"]
    key = rig.actions.make_key(login, permission="write")["token"]
    held = Holdings(login, "", pat, key)
    for headers in held.headers().values():
        response = rig.http.get("/api/v1/me", headers=headers)
        assert response.status_code == 200, response.text
        held.user_id = response.json()["id"]
    assert cookie_status(rig, login) == 200
    return held


def cookie_status(rig: Rig, login: Login) -> int:
    with rig.server.client(cookies=login.cookies) as browser:
        return browser.get("/api/v1/me").status_code


def refresh_status(rig: Rig, login: Login) -> int:
    response = rig.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.refresh_token}
    )
    return response.status_code


@SQLITE_ONLY
def test_without_the_setting_there_is_no_back_office(server: LiveServer) -> None:
    with server.client() as http:
        for path in ("/bo/users", "/bo/stats"):
            error(http.get(path, headers=BO), 404)
        error(http.post("/bo/users/usr_x/disable", headers=BO), 404)


@SQLITE_ONLY
def test_a_short_key_is_refused_at_start(make_settings: MakeSettings) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        make_settings(backoffice_api_key="k" * 31)
    assert make_settings(backoffice_api_key="k" * 32).backoffice_api_key


@SQLITE_ONLY
def test_only_the_key_opens_it(rig: Rig) -> None:
    login = rig.actions.user()
    pat = rig.actions.make_pat(login)["token"]
    key = rig.actions.make_key(login, permission="write")["token"]
    with rig.server.client() as anonymous:
        refused: list[dict[str, str]] = [
            {},
            {"Authorization": f"Bearer {BO_KEY[:-1]}"},
            {"Authorization": f"Bearer {BO_KEY}x"},
            {"Authorization": f"Basic {BO_KEY}"},
            {"Authorization": BO_KEY},
            {"X-API-Key": BO_KEY},
            login.bearer,
            rig.actions.admin().bearer,  # not even an instance admin's token
            Actions.bearer(pat),
            Actions.bearer(key),
        ]
        for headers in refused:
            error(anonymous.get("/bo/users", headers=headers), 401)
            error(anonymous.post("/bo/users/x/disable", headers=headers), 401)
    with rig.server.client(cookies=login.cookies) as browser:
        error(browser.get("/bo/stats"), 401)
    assert rig.bo("GET", "/bo/users").status_code == 200


@SQLITE_ONLY
def test_the_key_never_opens_the_api(rig: Rig) -> None:
    rig.actions.user()
    for path in ("/api/v1/me", "/api/v1/sessions", "/api/v1/admin/audit"):
        response = rig.bo("GET", path)
        error(response, 401)
    with rig.server.client() as fresh:
        error(fresh.get("/api/v1/me", headers={"X-API-Key": BO_KEY}), 401)


def test_users_are_listed_with_what_they_hold(rig: Rig) -> None:
    held = holdings(rig)
    rig.actions.make_pat(held.login)
    response = rig.bo("GET", "/bo/users")
    assert response.status_code == 200, response.text
    body = response.json()
    by_id = {u["id"]: u for u in body["items"]}
    user = by_id[held.user_id]
    assert user["username"] == held.login.username
    assert user["disabled"] is False
    assert user["is_admin"] is False
    assert (user["sessions"], user["access_tokens"], user["api_keys"]) == (1, 2, 1)
    admin = by_id[
        rig.http.get("/api/v1/me", headers=rig.actions.admin().bearer).json()["id"]
    ]
    assert admin["is_admin"] is True
    assert (admin["access_tokens"], admin["api_keys"]) == (0, 0)
    assert "password_hash" not in response.text
    assert held.pat not in response.text

    first = rig.bo("GET", "/bo/users", params={"limit": 1}).json()
    assert len(first["items"]) == 1
    after = rig.bo(
        "GET", "/bo/users", params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert after["items"][0]["id"] != first["items"][0]["id"]


def test_stats_count_the_instance(rig: Rig) -> None:
    held = holdings(rig)
    rig.actions.make_key(held.login)
    stats = rig.bo("GET", "/bo/stats").json()
    expected = {
        "users": 2,  # the admin and this user
        "disabled_users": 0,
        "active_sessions": 2,
        "access_tokens": 1,
        "api_keys": 2,
    }
    assert {k: stats[k] for k in expected} == expected
    rig.bo("POST", f"/bo/users/{held.user_id}/disable")
    assert rig.bo("GET", "/bo/stats").json()["disabled_users"] == 1


def test_disabling_a_user_stops_everything_at_once(rig: Rig) -> None:
    held = holdings(rig)
    bystander = holdings(rig)
    cache: VerificationCache = rig.server.app.state.services.cache
    assert len(cache) >= 3  # the JWT, PAT and key verifications are cached

    response = rig.bo("POST", f"/bo/users/{held.user_id}/disable")
    assert response.status_code == 200, response.text
    assert response.json() == {"id": held.user_id, "status": "disabled"}

    for kind, headers in held.headers().items():
        assert rig.http.get("/api/v1/me", headers=headers).status_code == 401, kind
    assert cookie_status(rig, held.login) == 401
    assert refresh_status(rig, held.login) == 401
    response = rig.http.post(
        "/api/v1/auth/login",
        json={
            "username": held.login.username,
            "password": "correct horse battery staple",
        },
    )
    error(response, 401, "invalid_credentials")
    users = {u["id"]: u for u in rig.bo("GET", "/bo/users").json()["items"]}
    assert users[held.user_id]["disabled"] is True

    for headers in bystander.headers().values():  # nobody else is touched
        assert rig.http.get("/api/v1/me", headers=headers).status_code == 200

    response = rig.bo("POST", f"/bo/users/{held.user_id}/enable")
    assert response.json() == {"id": held.user_id, "status": "enabled"}
    rig.actions.login(held.login.username)  # signs in again
    # Disabling ended every login for good (sessions, their JWTs and refresh
    # tokens); PATs and API keys are revoke-credentials' to end, so they
    # work again.
    by_kind = held.headers()
    assert rig.http.get("/api/v1/me", headers=by_kind.pop("jwt")).status_code == 401
    assert cookie_status(rig, held.login) == 401
    assert refresh_status(rig, held.login) == 401
    for kind, kept in by_kind.items():
        assert rig.http.get("/api/v1/me", headers=kept).status_code == 200, kind


def test_revoking_every_credential_of_a_user(rig: Rig) -> None:
    held = holdings(rig)
    other_session = rig.actions.login(held.login.username)
    bystander = holdings(rig)

    response = rig.bo("POST", f"/bo/users/{held.user_id}/revoke-credentials")
    assert response.status_code == 200, response.text
    assert response.json() == {"credentials": 2, "sessions": 2, "grants": 0}

    for kind, headers in held.headers().items():
        assert rig.http.get("/api/v1/me", headers=headers).status_code == 401, kind
    assert rig.http.get("/api/v1/me", headers=other_session.bearer).status_code == 401
    assert cookie_status(rig, held.login) == 401
    assert refresh_status(rig, held.login) == 401
    [user] = [
        u for u in rig.bo("GET", "/bo/users").json()["items"] if u["id"] == held.user_id
    ]
    assert (user["sessions"], user["access_tokens"], user["api_keys"]) == (0, 0, 0)
    # The account itself still works: signing in again gives a new session.
    fresh = rig.actions.login(held.login.username)
    assert rig.http.get("/api/v1/me", headers=fresh.bearer).status_code == 200
    for headers in bystander.headers().values():
        assert rig.http.get("/api/v1/me", headers=headers).status_code == 200

    audit = rig.http.get(
        "/api/v1/admin/audit",
        headers=rig.actions.admin().bearer,
        params={"user": held.user_id, "action": "user.credentials_revoked"},
    ).json()["items"]
    assert len(audit) == 1
    assert audit[0]["target_id"] == held.user_id
    assert audit[0]["details"]["sessions"] == 2
    assert len(audit[0]["details"]["credentials"]) == 2
    assert held.pat not in str(audit)
    assert held.key not in str(audit)


def test_unknown_users_are_not_found(rig: Rig) -> None:
    rig.actions.user()
    for action in ("disable", "enable", "revoke-credentials"):
        error(rig.bo("POST", f"/bo/users/usr_doesnotexist/{action}"), 404, "not_found")


def test_disable_and_enable_are_audited(rig: Rig) -> None:
    held = holdings(rig)
    rig.bo("POST", f"/bo/users/{held.user_id}/disable")
    rig.bo("POST", f"/bo/users/{held.user_id}/enable")
    events = rig.http.get(
        "/api/v1/admin/audit",
        headers=rig.actions.admin().bearer,
        params={"user": held.user_id},
    ).json()["items"]
    seen = [e["action"] for e in events if e["target_id"] == held.user_id]
    assert seen[:2] == ["user.enabled", "user.disabled"]  # newest first
