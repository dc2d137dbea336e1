"""A JWT never seen before costs its signature and claims, not a database round
trip, once this instance knows its session and user (``server/session_cache.py``)
or, for an OAuth client's token, that none of its ids is revoked
(``server/revocation_filter.py``); and every way a session or a token is
revoked, here or on another instance, still refuses such a token."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from authgate.domain.jwt import issue_access_token
from authgate.util import clock
from tests.support.actions import Actions, Login
from tests.support.db import statements
from tests.support.live import LiveServer

#: Instances behind one load balancer share one public URL (the issuer).
SHARED = {"public_url": "https://auth.example.test"}


def fresh(server: LiveServer, login: Login) -> dict[str, str]:
    """Bearer headers of a new access token of ``login``'s session, signed with
    the server's current key: a token no cache has seen."""
    claims = jwt.decode(login.access_token, options={"verify_signature": False})
    settings = server.app.state.services.settings
    token = issue_access_token(
        server.app.state.services.keys.ring,
        issuer=settings.issuer,
        subject=claims["sub"],
        audience=settings.api_resource,
        client_id="authgate",
        scope="read write",
        ttl=settings.jwt_expiry,
        session_id=claims["sid"],
    ).token
    return Actions.bearer(token)


def refused_within(
    server: LiveServer, seconds: float, headers: Callable[[], dict[str, str]]
) -> bool:
    """Whether ``/me`` refuses ``headers()`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    with server.client() as client:
        while time.monotonic() < deadline:
            if client.get("/api/v1/me", headers=headers()).status_code == 401:
                return True
            time.sleep(0.05)
    return False


def test_a_new_token_of_a_session_seen_costs_no_statement(
    server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    assert actions.client.get("/api/v1/me", headers=alice.bearer).status_code == 200
    with statements(server) as seen:
        response = actions.client.get("/api/v1/me", headers=fresh(server, alice))
    assert response.status_code == 200
    assert response.json()["username"] == alice.username
    assert seen == []


def _log_out(client: httpx.Client, actions: Actions, login: Login) -> None:
    assert client.post("/api/v1/auth/logout", headers=login.bearer).status_code == 204


def _end_the_login(client: httpx.Client, actions: Actions, login: Login) -> None:
    sid = jwt.decode(login.access_token, options={"verify_signature": False})["sid"]
    response = client.delete(f"/api/v1/sessions/{sid}", headers=login.bearer)
    assert response.status_code == 204


def _revoke_all(client: httpx.Client, actions: Actions, login: Login) -> None:
    response = client.post("/api/v1/sessions/revoke-all", headers=login.bearer)
    assert response.status_code == 200


def _reset_the_password(client: httpx.Client, actions: Actions, login: Login) -> None:
    user_id = client.get("/api/v1/me", headers=login.bearer).json()["id"]
    response = client.post(
        f"/api/v1/admin/users/{user_id}/reset-password",
        headers=actions.admin().bearer,
        json={"new_password": "a brand new long passphrase"},
    )
    assert response.status_code == 204


def _disable(client: httpx.Client, actions: Actions, login: Login) -> None:
    user_id = client.get("/api/v1/me", headers=login.bearer).json()["id"]
    response = client.patch(
        f"/api/v1/admin/users/{user_id}",
        headers=actions.admin().bearer,
        json={"active": False},
    )
    assert response.status_code == 200


def _reuse_a_refresh_token(
    client: httpx.Client, actions: Actions, login: Login
) -> None:
    body = {"refresh_token": login.refresh_token}
    assert client.post("/api/v1/auth/refresh", json=body).status_code == 200
    assert client.post("/api/v1/auth/refresh", json=body).status_code == 401


@pytest.mark.parametrize(
    "revoke",
    [
        _log_out,
        _end_the_login,
        _revoke_all,
        _reset_the_password,
        _disable,
        _reuse_a_refresh_token,
    ],
)
def test_every_way_a_session_ends_refuses_its_new_tokens(
    server: LiveServer,
    actions: Actions,
    revoke: Callable[[httpx.Client, Actions, Login], None],
) -> None:
    actions.admin()
    alice = actions.user()
    assert actions.client.get("/api/v1/me", headers=alice.bearer).status_code == 200
    # Alice's session and user are now known here: no database read for them.
    revoke(actions.client, actions, alice)
    response = actions.client.get("/api/v1/me", headers=fresh(server, alice))
    assert response.status_code == 401


def test_a_session_ended_on_one_instance_is_refused_by_another(
    start_server: Callable[..., LiveServer],
) -> None:
    a, b = start_server(**SHARED), start_server(**SHARED)
    with a.client() as on_a, b.client() as on_b:
        login = Actions(on_a).admin()
        assert on_b.get("/api/v1/me", headers=fresh(b, login)).status_code == 200
        with statements(b) as seen:
            assert on_b.get("/api/v1/me", headers=fresh(b, login)).status_code == 200
        assert seen == []  # B knows the session now
        _log_out(on_a, Actions(on_a), login)
    assert refused_within(b, 1.0, lambda: fresh(b, login))


def test_a_session_idle_too_long_is_refused_though_cached(
    server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    assert actions.client.get("/api/v1/me", headers=fresh(server, alice)).is_success
    idle = server.app.state.services.settings.session_idle_timeout
    clock.advance(idle.total_seconds() + 1)
    response = actions.client.get("/api/v1/me", headers=fresh(server, alice))
    assert response.status_code == 401


def test_a_token_verified_before_is_refused_once_its_session_idled_out(
    start_server: Callable[..., LiveServer],
) -> None:
    """The verification cache keeps a token no longer than its session would
    live unused, so a token whose lifetime outlasts that is refused as an
    uncached one would be."""
    server = start_server(session_idle_timeout=timedelta(minutes=10))
    with server.client() as client:
        alice = Actions(client).admin()
        assert client.get("/api/v1/me", headers=alice.bearer).status_code == 200
        clock.advance(timedelta(minutes=11).total_seconds())  # the JWT lives 15
        assert client.get("/api/v1/me", headers=alice.bearer).status_code == 401


def test_a_session_used_elsewhere_is_not_idle_here(
    start_server: Callable[..., LiveServer],
) -> None:
    """B's copy of the session is older than its last use on A (a refresh there
    slid the idle deadline, and nothing is published for that): past the
    copy's idle deadline, B reads the session again instead of refusing."""
    a, b = start_server(**SHARED), start_server(**SHARED)
    with a.client() as on_a, b.client() as on_b:
        login = Actions(on_a).admin()
        assert on_b.get("/api/v1/me", headers=fresh(b, login)).status_code == 200
        idle = b.app.state.services.settings.session_idle_timeout
        clock.advance((idle - timedelta(hours=1)).total_seconds())
        body = {"refresh_token": login.refresh_token}
        assert on_a.post("/api/v1/auth/refresh", json=body).status_code == 200
        clock.advance(timedelta(hours=2).total_seconds())
        assert on_b.get("/api/v1/me", headers=fresh(b, login)).status_code == 200


def _client_token(server: LiveServer, client: dict[str, Any]) -> str:
    response = httpx.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_new_client_token_costs_no_statement(
    server: LiveServer, actions: Actions
) -> None:
    service = actions.make_client(grant_types=["client_credentials"], scope="read")
    token = _client_token(server, service)
    with statements(server) as seen:
        response = actions.client.get("/api/v1/me", headers=Actions.bearer(token))
    assert response.status_code == 403  # verified: a token with no user
    assert seen == []


def test_a_token_revoked_on_one_instance_is_refused_by_another(
    start_server: Callable[..., LiveServer],
) -> None:
    """Instance B has never seen the token; its revocation (by ``jti``) on A
    reaches B through the feed, and B asks the database about it."""
    a, b = start_server(**SHARED), start_server(**SHARED)
    with a.client() as on_a:
        service = Actions(on_a).make_client(
            grant_types=["client_credentials"], scope="read"
        )
        token = _client_token(a, service)
        revoked = on_a.post(
            "/oauth/revoke",
            data={"token": token},
            auth=(service["client_id"], service["client_secret"]),
        )
        assert revoked.status_code == 200
    assert refused_within(b, 1.0, lambda: Actions.bearer(token))


def test_a_token_revoked_before_an_instance_started_is_refused_there(
    start_server: Callable[..., LiveServer],
) -> None:
    """What B's feed never carried, B read when it started."""
    a = start_server(**SHARED)
    with a.client() as on_a:
        service = Actions(on_a).make_client(
            grant_types=["client_credentials"], scope="read"
        )
        token = _client_token(a, service)
        on_a.post(
            "/oauth/revoke",
            data={"token": token},
            auth=(service["client_id"], service["client_secret"]),
        )
    b = start_server(**SHARED)
    with b.client() as on_b:
        response = on_b.get("/api/v1/me", headers=Actions.bearer(token))
    assert response.status_code == 401
