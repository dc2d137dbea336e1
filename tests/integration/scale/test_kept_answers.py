"""A client's repeat request authenticates it from memory (``Server.clients``),
and a repeat introspection of a personal access token or API key answers from
memory (``Server.introspected``): neither reads the database. Every way what
they kept can change (a client deleted or pruned, a credential revoked, its
user disabled, a role changed, the org deleted), here or on another instance,
shows in the very next answer here and within a second there."""

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from authgate.domain.housekeeping import GRACE
from authgate.server import housekeeping
from authgate.util import clock
from tests.support.actions import Actions
from tests.support.db import statements
from tests.support.live import LiveServer

SHARED = {"public_url": "https://auth.example.test"}


def introspect(
    server: LiveServer, client: dict[str, Any], token: str
) -> httpx.Response:
    with server.client() as http:
        return http.post(
            "/oauth/introspect",
            data={"token": token},
            auth=(client["client_id"], client["client_secret"]),
        )


def answer(server: LiveServer, client: dict[str, Any], token: str) -> Any:
    response = introspect(server, client, token)
    assert response.status_code == 200, response.text
    return response.json()


def within(seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def resource_server(actions: Actions) -> dict[str, Any]:
    return actions.make_client(grant_types=["client_credentials"])


def kept(server: LiveServer, actions: Actions) -> tuple[dict[str, Any], str, Any]:
    """A resource server, and a personal access token it introspected once
    (so the answer is kept): the client, the token and that answer."""
    rs = resource_server(actions)
    token = actions.make_pat(actions.user(), scopes=["read"])["token"]
    first = answer(server, rs, token)
    assert first["active"] is True
    return rs, token, first


def test_a_repeat_introspection_reads_nothing(
    server: LiveServer, actions: Actions
) -> None:
    rs, token, first = kept(server, actions)
    with statements(server) as seen:
        again = answer(server, rs, token)
    assert again == first
    assert seen == []


def test_a_repeat_client_credentials_grant_reads_nothing(
    server: LiveServer, actions: Actions
) -> None:
    service = actions.make_client(grant_types=["client_credentials"], scope="read")

    def grant() -> httpx.Response:
        with server.client() as http:
            return http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(service["client_id"], service["client_secret"]),
            )

    assert grant().status_code == 200
    with statements(server) as seen:
        assert grant().status_code == 200
    assert seen == []


def test_a_wrong_secret_is_refused_for_a_known_client(
    server: LiveServer, actions: Actions
) -> None:
    rs, token, _ = kept(server, actions)
    wrong = introspect(server, {**rs, "client_secret": "x" * 43}, token)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_a_deleted_client_is_refused_at_once(
    server: LiveServer, actions: Actions
) -> None:
    rs, token, _ = kept(server, actions)
    deleted = actions.client.delete(
        f"/api/v1/admin/clients/{rs['client_id']}", headers=actions.admin().bearer
    )
    assert deleted.status_code == 204
    assert introspect(server, rs, token).status_code == 401


def test_a_pruned_client_is_forgotten(server: LiveServer) -> None:
    """A dynamically registered client that never got a token is known here
    once it asked for something (a revocation); once housekeeping prunes it,
    this instance must not know it from memory."""
    with server.client() as http:
        registered = http.post(
            "/oauth/register",
            json={
                "client_name": "abandoned",
                "redirect_uris": ["http://127.0.0.1/cb"],
                "token_endpoint_auth_method": "none",
            },
        )
        assert registered.status_code == 201, registered.text
        client_id = registered.json()["client_id"]

        def revoke() -> int:
            asked = {"token": "ag_rt_unknown", "client_id": client_id}
            return http.post("/oauth/revoke", data=asked).status_code

        assert revoke() == 200
        services = server.app.state.services
        clock.advance((GRACE + timedelta(hours=1)).total_seconds())
        pruned = asyncio.run_coroutine_threadsafe(
            housekeeping.run(services.db, housekeeping.policy(services.settings)),
            server.loop,
        ).result()
        assert pruned is not None
        assert pruned["oauth_clients"] == 1
        assert revoke() == 401


def test_every_change_to_a_kept_answer_shows_in_the_next(
    server: LiveServer, actions: Actions
) -> None:
    rs = resource_server(actions)
    owner = actions.user()
    org = actions.make_org(owner)
    member = actions.org_member(owner, org["id"], role="admin")
    member_id = actions.client.get("/api/v1/me", headers=member.bearer).json()["id"]
    headers = {**member.bearer, "X-Organization-Id": org["id"]}
    made = actions.client.post(
        "/api/v1/api-keys", headers=headers, json={"name": "k", "permission": "write"}
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert answer(server, rs, token)["roles"] == ["admin"]
    changed = actions.client.patch(
        f"/api/v1/orgs/{org['id']}/members/{member_id}",
        headers=owner.bearer,
        json={"role": "member"},
    )
    assert changed.status_code == 200, changed.text
    assert answer(server, rs, token)["roles"] == ["member"]
    # The user disabled: inactive.
    pat = actions.make_pat(member)
    assert answer(server, rs, pat["token"])["active"] is True
    disabled = actions.client.patch(
        f"/api/v1/admin/users/{member_id}",
        headers=actions.admin().bearer,
        json={"active": False},
    )
    assert disabled.status_code == 200, disabled.text
    assert answer(server, rs, pat["token"]) == {"active": False}
    assert answer(server, rs, token) == {"active": False}


def test_a_revocation_on_one_instance_reaches_another_s_kept_answers(
    start_server: Callable[..., LiveServer],
) -> None:
    a, b = start_server(**SHARED), start_server(**SHARED)
    with a.client() as on_a:
        actions = Actions(on_a)
        rs = resource_server(actions)
        user = actions.user()
        pat = actions.make_pat(user)
        assert answer(b, rs, pat["token"])["active"] is True
        revoked = on_a.delete(f"/api/v1/access-tokens/{pat['id']}", headers=user.bearer)
        assert revoked.status_code == 204
        assert within(1.0, lambda: answer(b, rs, pat["token"]) == {"active": False})
        other = actions.make_pat(user)
        assert answer(b, rs, other["token"])["active"] is True
        deleted = on_a.delete(
            f"/api/v1/admin/clients/{rs['client_id']}", headers=actions.admin().bearer
        )
        assert deleted.status_code == 204
    assert within(1.0, lambda: introspect(b, rs, other["token"]).status_code == 401)
