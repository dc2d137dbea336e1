"""Revocation reaches every login: a password reset or change, ``revoke-all``
and disabling an account end an OAuth client's grant too (refresh family and
access tokens, refused at once, audited), and nothing comes back when the
account is enabled again. OAuth logins are sessions the person sees and
ends; a refresh family lives at most its absolute lifetime."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from authgate.util import clock
from tests.integration.oauth.conftest import MCP_RESOURCE
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.live import LiveServer
from tests.support.oauth import LoopbackReceiver, audit_events
from tests.support.pages import Pages

BO_KEY = "b" * 40
NEW_PASSWORD = "a new and different passphrase"
DAY = 24 * 3600


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(
        mcp_resource_uri=MCP_RESOURCE,
        backoffice_api_key=BO_KEY,
        refresh_token_max_lifetime="30d",
        # Longer than the refresh cap, so the cap is what ends a sign-in.
        session_max_lifetime="60d",
    )


@pytest.fixture
def resource_server(
    actions: Actions, authlib: Callable[..., OAuth2Client]
) -> OAuth2Client:
    """A confidential client, as a resource server introspecting tokens."""
    registered = actions.make_client(grant_types=["client_credentials"])
    return authlib(registered["client_id"], registered["client_secret"])


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


def active(meta: dict[str, Any], resource_server: OAuth2Client, token: str) -> bool:
    response = resource_server.introspect_token(
        meta["introspection_endpoint"], token=token
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["active"])


class Grant:
    """One OAuth login of the user: Authlib's client and its tokens."""

    def __init__(self, client: Any, token: dict[str, Any]) -> None:
        self.client = client
        self.token = token

    def refresh(self) -> dict[str, Any]:
        fresh = self.client.refresh_token(refresh_token=self.token["refresh_token"])
        self.token = dict(fresh)
        return self.token


@pytest.fixture
def grant(
    public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> Callable[[], Grant]:
    def login() -> Grant:
        client, token = code_flow(public_client["client_id"], scope="openid read")
        return Grant(client, dict(token))

    return login


def assert_alive(
    server: LiveServer, meta: dict[str, Any], resource_server: OAuth2Client, g: Grant
) -> None:
    assert me(server, g.token["access_token"]).status_code == 200  # now cached
    assert active(meta, resource_server, g.token["access_token"])
    g.refresh()
    assert me(server, g.token["access_token"]).status_code == 200


def assert_dead(
    server: LiveServer, meta: dict[str, Any], resource_server: OAuth2Client, g: Grant
) -> None:
    assert me(server, g.token["access_token"]).status_code == 401
    assert not active(meta, resource_server, g.token["access_token"])
    with pytest.raises(OAuthError) as refused:
        g.refresh()
    assert refused.value.error == "invalid_grant"


def recover(server: LiveServer, actions: Actions, user: Login) -> None:
    key = actions.client.post(
        "/api/v1/recovery-key", headers=user.bearer, json={"password": PASSWORD}
    )
    assert key.status_code == 201, key.text
    done = actions.client.post(
        "/api/v1/auth/recover",
        json={
            "username": user.username,
            "recovery_key": key.json()["recovery_key"],
            "new_password": NEW_PASSWORD,
        },
    )
    assert done.status_code == 204, done.text


def change_password(server: LiveServer, actions: Actions, user: Login) -> None:
    pages = Pages(server, user, "/settings/profile")
    try:
        done = pages.post(
            "/settings/profile/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert done.status_code == 303, done.text
    finally:
        pages.close()


def admin_reset(server: LiveServer, actions: Actions, user: Login) -> None:
    done = actions.client.post(
        f"/api/v1/admin/users/{user_id(actions, user)}/reset-password",
        headers=actions.admin().bearer,
        json={"new_password": NEW_PASSWORD},
    )
    assert done.status_code == 204, done.text


def revoke_all(server: LiveServer, actions: Actions, user: Login) -> None:
    done = actions.client.post("/api/v1/sessions/revoke-all", headers=user.bearer)
    assert done.status_code == 200, done.text


def admin_disable(server: LiveServer, actions: Actions, user: Login) -> None:
    done = actions.client.patch(
        f"/api/v1/admin/users/{user_id(actions, user)}",
        headers=actions.admin().bearer,
        json={"active": False},
    )
    assert done.status_code == 200, done.text


def bo_disable(server: LiveServer, actions: Actions, user: Login) -> None:
    done = actions.client.post(
        f"/bo/users/{user_id(actions, user)}/disable",
        headers={"Authorization": f"Bearer {BO_KEY}"},
    )
    assert done.status_code == 200, done.text


def bo_revoke_credentials(server: LiveServer, actions: Actions, user: Login) -> None:
    done = actions.client.post(
        f"/bo/users/{user_id(actions, user)}/revoke-credentials",
        headers={"Authorization": f"Bearer {BO_KEY}"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["grants"] >= 1


_ids: dict[str, str] = {}


def user_id(actions: Actions, user: Login) -> str:
    if user.username not in _ids:
        found = actions.client.get("/api/v1/me", headers=user.bearer)
        assert found.status_code == 200, found.text
        _ids[user.username] = str(found.json()["id"])
    return _ids[user.username]


ACTIONS = {
    "recovery_key_reset": (recover, "password_reset"),
    "password_change": (change_password, "password_changed"),
    "admin_password_reset": (admin_reset, "password_reset"),
    "revoke_all": (revoke_all, "revoke_all"),
    "admin_disable": (admin_disable, "disabled"),
    "backoffice_disable": (bo_disable, "disabled"),
    "backoffice_revoke_credentials": (bo_revoke_credentials, "admin_revoke"),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_account_action_ends_the_oauth_grants(
    action: str,
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    resource_server: OAuth2Client,
    database_url: str,
) -> None:
    user_id(actions, user)  # read before the action may end the user's login
    first, second = grant(), grant()
    assert_alive(server, meta, resource_server, first)
    assert me(server, second.token["access_token"]).status_code == 200
    run, reason = ACTIONS[action]
    run(server, actions, user)
    for g in (first, second):
        assert_dead(server, meta, resource_server, g)
    ended = [
        e
        for e in audit_events(database_url)
        if e["action"] == "session.revoked" and e["details"].get("reason") == reason
    ]
    assert ended, audit_events(database_url)[:5]
    families = ended[0]["details"]["grants"]
    assert len(families) == 2
    assert ended[0]["target_id"] == user_id(actions, user)


@pytest.mark.parametrize(
    ("disable", "enable"),
    [
        (
            lambda a, uid: a.client.patch(
                f"/api/v1/admin/users/{uid}",
                headers=a.admin().bearer,
                json={"active": False},
            ),
            lambda a, uid: a.client.patch(
                f"/api/v1/admin/users/{uid}",
                headers=a.admin().bearer,
                json={"active": True},
            ),
        ),
        (
            lambda a, uid: a.client.post(
                f"/bo/users/{uid}/disable",
                headers={"Authorization": f"Bearer {BO_KEY}"},
            ),
            lambda a, uid: a.client.post(
                f"/bo/users/{uid}/enable",
                headers={"Authorization": f"Bearer {BO_KEY}"},
            ),
        ),
    ],
    ids=["admin_api", "backoffice"],
)
def test_enabling_again_brings_no_grant_back(
    disable: Callable[[Actions, str], httpx.Response],
    enable: Callable[[Actions, str], httpx.Response],
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    resource_server: OAuth2Client,
) -> None:
    uid = user_id(actions, user)
    g = grant()
    assert_alive(server, meta, resource_server, g)
    assert disable(actions, uid).status_code == 200
    assert enable(actions, uid).status_code == 200
    assert_dead(server, meta, resource_server, g)
    # The account works again: for a new sign-in, not for the old grant.
    again = actions.login(user.username)
    assert me(server, again.access_token).status_code == 200


def test_a_password_change_keeps_the_session_that_made_it(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    resource_server: OAuth2Client,
) -> None:
    g = grant()
    change_password(server, actions, user)
    assert_dead(server, meta, resource_server, g)
    still = httpx.get(f"{server.url}/api/v1/me", cookies=user.cookies)
    assert still.status_code == 200, still.text


def test_oauth_logins_are_listed_among_sessions(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    public_client: dict[str, Any],
    resource_server: OAuth2Client,
) -> None:
    g = grant()
    g.refresh()
    listed = actions.client.get("/api/v1/sessions", headers=user.bearer)
    assert listed.status_code == 200, listed.text
    apps = [s for s in listed.json()["items"] if s["id"].startswith("gr_")]
    assert len(apps) == 1
    login = apps[0]
    assert login["device"] == public_client["name"]
    assert set(login) == {
        "id",
        "device",
        "ip",
        "location",
        "created_at",
        "last_active_at",
        "current",
    }
    assert login["current"] is False
    assert login["last_active_at"] >= login["created_at"]


def test_revoking_an_oauth_login_kills_its_refresh_and_access_tokens(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    resource_server: OAuth2Client,
) -> None:
    g = grant()
    assert_alive(server, meta, resource_server, g)
    listed = actions.client.get("/api/v1/sessions", headers=user.bearer).json()
    login_id = next(s["id"] for s in listed["items"] if s["id"].startswith("gr_"))
    other = grant()
    # Another person cannot end it, nor learn it exists.
    stranger = actions.user()
    refused = actions.client.delete(
        f"/api/v1/sessions/{login_id}", headers=stranger.bearer
    )
    assert refused.status_code == 404, refused.text
    assert me(server, g.token["access_token"]).status_code == 200
    done = actions.client.delete(f"/api/v1/sessions/{login_id}", headers=user.bearer)
    assert done.status_code == 204, done.text
    assert_dead(server, meta, resource_server, g)
    # The person's other logins live on.
    assert_alive(server, meta, resource_server, other)
    assert me(server, user.access_token).status_code == 200


def test_a_refresh_family_ends_at_its_absolute_lifetime(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    resource_server: OAuth2Client,
) -> None:
    g = grant()
    # Refreshing every few days keeps it under the 7-day idle lifetime...
    for _ in range(4):
        clock.advance(6 * DAY)
        g.refresh()
    clock.advance(5 * DAY)  # 29 days after the grant
    g.refresh()
    # ...but never past 30 days from the grant.
    clock.advance(DAY + 1)
    with pytest.raises(OAuthError):
        g.refresh()


def test_a_first_party_refresh_family_ends_at_its_absolute_lifetime(
    server: LiveServer, actions: Actions, user: Login
) -> None:
    refresh = user.refresh_token
    for _ in range(4):
        clock.advance(6 * DAY)
        answer = actions.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": refresh}
        )
        assert answer.status_code == 200, answer.text
        refresh = answer.json()["refresh_token"]
    clock.advance(6 * DAY + 1)  # 30 days and a second after sign-in
    answer = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": refresh}
    )
    assert answer.status_code == 401, answer.text


def test_an_oauth_refresh_token_is_not_consumed_at_the_first_party_endpoint(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    resource_server: OAuth2Client,
) -> None:
    g = grant()
    sent = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": g.token["refresh_token"]}
    )
    assert sent.status_code == 401, sent.text
    # Untouched: the client's next refresh is no reuse, and the family lives.
    assert_alive(server, meta, resource_server, g)


def test_a_first_party_refresh_token_is_not_consumed_at_the_token_endpoint(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    public_client: dict[str, Any],
    authlib: Callable[..., OAuth2Client],
) -> None:
    client = authlib(public_client["client_id"])
    with pytest.raises(OAuthError):
        client.refresh_token(meta["token_endpoint"], refresh_token=user.refresh_token)
    answer = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": user.refresh_token}
    )
    assert answer.status_code == 200, answer.text


def test_authorized_apps_are_listed_and_withdrawn(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    grant: Callable[[], Grant],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    resource_server: OAuth2Client,
    database_url: str,
) -> None:
    g = grant()
    g.refresh()
    other = actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        grant_types=["authorization_code", "refresh_token"],
    )
    listed = actions.client.get("/api/v1/authorized-apps", headers=user.bearer)
    assert listed.status_code == 200, listed.text
    [app] = listed.json()["items"]
    assert app["client_id"] == public_client["client_id"]
    assert app["name"] == public_client["name"]
    assert app["scopes"] == ["openid", "read"]
    assert app["last_used_at"] >= app["granted_at"]
    # Nobody else's consent can be withdrawn, nor one never given.
    stranger = actions.user()
    for who, client_id in (
        (stranger, public_client["client_id"]),
        (user, other["client_id"]),
    ):
        refused = actions.client.delete(
            f"/api/v1/authorized-apps/{client_id}", headers=who.bearer
        )
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"] == "not_found"
    assert me(server, g.token["access_token"]).status_code == 200

    done = actions.client.delete(
        f"/api/v1/authorized-apps/{public_client['client_id']}", headers=user.bearer
    )
    assert done.status_code == 204, done.text
    assert_dead(server, meta, resource_server, g)
    listed = actions.client.get("/api/v1/authorized-apps", headers=user.bearer)
    assert listed.json()["items"] == []
    withdrawn = [
        e
        for e in audit_events(database_url)
        if e["action"] == "oauth.consent_withdrawn"
    ]
    assert [e["target_id"] for e in withdrawn] == [public_client["client_id"]]
    # The person's own sign-in is untouched.
    assert me(server, user.access_token).status_code == 200


def test_a_grant_without_refresh_tokens_is_ended_too(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    receiver: LoopbackReceiver,
    code_flow: Callable[..., Any],
    resource_server: OAuth2Client,
) -> None:
    """A client without the refresh grant has no family to revoke: its access
    token is refused by the id of the code it came from."""
    app = actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        grant_types=["authorization_code"],
    )
    _client, token = code_flow(app["client_id"], scope="read")
    assert "refresh_token" not in token
    assert me(server, token["access_token"]).status_code == 200
    revoke_all(server, actions, user)
    assert me(server, token["access_token"]).status_code == 401
    assert not active(meta, resource_server, token["access_token"])
