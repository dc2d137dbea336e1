"""Sessions, ``POST /api/v1/auth/refresh`` and ``POST /api/v1/auth/logout``:
what a sign-in gives, how long it lives, and how it ends."""

from collections.abc import Callable

import httpx
import jwt

from authgate.util import clock, tokens
from tests.support.actions import Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.race import race
from tests.support.tamper import mangle

ME = "/api/v1/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
MINUTE = 60


def refresh(server: LiveServer, token: str) -> httpx.Response:
    """Refresh from a client holding nothing but the token."""
    with server.client() as http:
        return http.post(REFRESH, json={"refresh_token": token})


def me(server: LiveServer, **client_options: object) -> httpx.Response:
    with server.client(**client_options) as http:
        return http.get(ME)


def by_cookie(signed_in: Login) -> dict[str, object]:
    return {"cookies": {"ag_session": signed_in.cookies["ag_session"]}}


def by_bearer(token: str) -> dict[str, object]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def test_the_session_cookie_alone_authenticates(
    server: LiveServer, actions: Actions
) -> None:
    signed_in = actions.admin()
    response = me(server, **by_cookie(signed_in))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == signed_in.username
    assert response.json()["auth"]["kind"] == "session"
    error(me(server), 401, "unauthenticated")
    error(me(server, cookies={"ag_session": "ag_ses_forged"}), 401)


def test_logout_ends_the_session_for_every_credential(
    server: LiveServer, actions: Actions
) -> None:
    admin = actions.admin()
    # Three sessions of one user, signed out with each kind of credential.
    sessions = {
        how: actions.login(admin.username) for how in ("bearer", "cookie", "refresh")
    }
    bystander = actions.login(admin.username)
    for signed_in in [*sessions.values(), bystander]:
        # Each is verified (and so cached) before the logout.
        assert me(server, **by_bearer(signed_in.access_token)).status_code == 200
        assert me(server, **by_cookie(signed_in)).status_code == 200

    for how, signed_in in sessions.items():
        with server.client() as http:
            if how == "bearer":
                response = http.post(LOGOUT, headers=signed_in.bearer)
            elif how == "cookie":
                http.cookies.set("ag_session", signed_in.cookies["ag_session"])
                response = http.post(LOGOUT)
            else:
                body = {"refresh_token": signed_in.refresh_token}
                response = http.post(LOGOUT, json=body)
            assert response.status_code == 204, (how, response.text)
            cleared = {
                header.split("=", 1)[0]
                for header in response.headers.get_list("set-cookie")
                if "max-age=0" in header.lower()
            }
            assert cleared == {"ag_session", "ag_csrf", "ag_refresh"}, how
            # Signing out again is not an error.
            assert http.post(LOGOUT, headers=signed_in.bearer).status_code == 204

        bearer = me(server, **by_bearer(signed_in.access_token))
        error(bearer, 401, "invalid_token")
        error(me(server, **by_cookie(signed_in)), 401, "invalid_token")
        error(refresh(server, signed_in.refresh_token), 401, "invalid_token")

    # Another session of the same user is not touched.
    assert me(server, **by_bearer(bystander.access_token)).status_code == 200
    assert me(server, **by_cookie(bystander)).status_code == 200
    assert refresh(server, bystander.refresh_token).status_code == 200
    with server.client() as http:  # nothing to sign out of
        assert http.post(LOGOUT).status_code == 204


def test_a_session_ends_when_idle(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(session_idle_timeout="10m", session_max_lifetime="1h")
    with server.client() as http:
        signed_in = Actions(http).admin()
    browser = by_cookie(signed_in)
    assert me(server, **browser).status_code == 200
    clock.advance(9 * MINUTE)
    assert me(server, **browser).status_code == 200  # slides the deadline
    clock.advance(9 * MINUTE)
    assert me(server, **browser).status_code == 200  # 18 minutes after sign-in
    clock.advance(10 * MINUTE + 1)
    error(me(server, **browser), 401, "invalid_token")
    error(refresh(server, signed_in.refresh_token), 401, "invalid_token")


def test_a_session_ends_at_its_absolute_lifetime(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(session_idle_timeout="10m", session_max_lifetime="30m")
    with server.client() as http:
        signed_in = Actions(http).admin()
    browser = by_cookie(signed_in)
    token = signed_in.refresh_token
    for _ in range(3):  # used every 9 minutes, so never idle
        clock.advance(9 * MINUTE)
        assert me(server, **browser).status_code == 200
        response = refresh(server, token)
        assert response.status_code == 200, response.text
        token = response.json()["refresh_token"]
    clock.advance(3 * MINUTE + 1)  # 30 minutes and a second after sign-in
    error(me(server, **browser), 401, "invalid_token")
    error(refresh(server, token), 401, "invalid_token")


def test_a_refresh_token_expires(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(refresh_token_expiry="1h")
    with server.client() as http:
        signed_in = Actions(http).admin()
    clock.advance(60 * MINUTE + 1)
    error(refresh(server, signed_in.refresh_token), 401, "invalid_token")
    assert me(server, **by_cookie(signed_in)).status_code == 200  # session lives on


def test_refresh_rotates_the_token(server: LiveServer, actions: Actions) -> None:
    signed_in = actions.admin()
    first = refresh(server, signed_in.refresh_token)
    assert first.status_code == 200, first.text
    body = first.json()
    assert {"access_token", "token_type", "expires_in", "refresh_token"} <= set(body)
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] != signed_in.refresh_token
    assert body["access_token"] != signed_in.access_token
    new_me = me(server, **by_bearer(body["access_token"]))
    assert new_me.status_code == 200
    assert new_me.json()["username"] == signed_in.username
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    original = jwt.decode(signed_in.access_token, options={"verify_signature": False})
    assert claims["sid"] == original["sid"]  # the same session goes on
    second = refresh(server, body["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] not in (
        body["refresh_token"],
        signed_in.refresh_token,
    )
    error(refresh(server, signed_in.refresh_token), 401, "invalid_token")


def test_reusing_a_refresh_token_revokes_the_whole_session(
    server: LiveServer, actions: Actions
) -> None:
    admin = actions.admin()
    victim = actions.login(admin.username)  # a second session of the same user
    rotated = refresh(server, victim.refresh_token).json()
    # Everything is verified (and cached) before the reuse.
    assert me(server, **by_bearer(victim.access_token)).status_code == 200
    assert me(server, **by_bearer(rotated["access_token"])).status_code == 200
    assert me(server, **by_cookie(victim)).status_code == 200

    error(refresh(server, victim.refresh_token), 401, "invalid_token")

    error(refresh(server, rotated["refresh_token"]), 401, "invalid_token")
    error(me(server, **by_bearer(rotated["access_token"])), 401, "invalid_token")
    error(me(server, **by_bearer(victim.access_token)), 401, "invalid_token")
    error(me(server, **by_cookie(victim)), 401, "invalid_token")
    # Only that session: the admin's first one goes on.
    assert me(server, **by_bearer(admin.access_token)).status_code == 200

    sid = jwt.decode(victim.access_token, options={"verify_signature": False})["sid"]
    response = actions.client.get(
        "/api/v1/admin/audit",
        params={"action": "refresh_token.reused"},
        headers=admin.bearer,
    )
    assert response.status_code == 200, response.text
    events = response.json()["items"]
    assert len(events) == 1
    assert events[0]["details"]["session_id"] == sid
    assert (
        events[0]["actor_id"]
        == me(server, **by_bearer(admin.access_token)).json()["id"]
    )


def test_two_uses_at_once_rotate_once_and_revoke_the_session(
    server: LiveServer, actions: Actions
) -> None:
    signed_in = actions.admin()
    body = {"refresh_token": signed_in.refresh_token}
    responses = race(server, *[lambda http: http.post(REFRESH, json=body)] * 2)
    assert sorted(r.status_code for r in responses) == [200, 401]
    won, lost = sorted(responses, key=lambda r: r.status_code)
    error(lost, 401, "invalid_token")
    # The loser's use was a reuse: the session ends, the winner's tokens too.
    error(refresh(server, won.json()["refresh_token"]), 401, "invalid_token")
    error(me(server, **by_bearer(won.json()["access_token"])), 401, "invalid_token")
    error(me(server, **by_cookie(signed_in)), 401, "invalid_token")


def test_refresh_with_the_cookie(server: LiveServer) -> None:
    name = random_name()
    with server.client() as browser:
        assert Actions(browser).register(name).status_code == 201
        signed_in = Actions(browser).login(name)
        first = browser.post(REFRESH)  # no body: the ag_refresh cookie
        assert first.status_code == 200, first.text
        assert first.json()["refresh_token"] != signed_in.refresh_token
        assert browser.cookies["ag_refresh"] == first.json()["refresh_token"]
        second = browser.post(REFRESH)
        assert second.status_code == 200, second.text
        assert second.json()["refresh_token"] != first.json()["refresh_token"]
    with server.client() as stranger:
        error(stranger.post(REFRESH), 401, "invalid_token")


def test_refresh_refuses_anything_but_a_live_refresh_token(
    server: LiveServer, actions: Actions
) -> None:
    signed_in = actions.admin()
    session = signed_in.cookies["ag_session"]
    rt = signed_in.refresh_token
    for presented in [
        "",
        "garbage",
        "ag_rt_",
        mangle(rt),  # checksum broken
        rt.upper(),
        tokens.mint("ag", "rt"),  # well formed, never issued
        tokens.mint("xy", "rt"),
        session,
        signed_in.access_token,
        signed_in.body["csrf_token"],
        "ag_rt_" + "A" * 200,
    ]:
        response = refresh(server, presented)
        body = error(response, 401, "invalid_token")
        assert presented not in body["error_description"] or not presented
    # None of those spent or revoked the real one.
    assert refresh(server, rt).status_code == 200
