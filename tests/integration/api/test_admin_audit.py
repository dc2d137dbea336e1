"""``GET /api/v1/admin/audit``: what accounts and sessions write to the audit
log, and how administrators filter and page through it."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import jwt

from authgate.util import clock
from tests.support.actions import Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

AUDIT = "/api/v1/admin/audit"
AGENT = "audit-suite/1.0 (integration test)"
WRONG = "not the password, sorry"


def events(http: httpx.Client, admin: Login, **params: Any) -> list[dict[str, Any]]:
    response = http.get(AUDIT, headers=admin.bearer, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def sid(login: Login) -> str:
    claims = jwt.decode(login.access_token, options={"verify_signature": False})
    return str(claims["sid"])


def user_id(http: httpx.Client, login: Login) -> str:
    return str(http.get("/api/v1/me", headers=login.bearer).json()["id"])


def one(found: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    hits = [e for e in found if all(e.get(k) == v for k, v in match.items())]
    assert len(hits) == 1, (match, found)
    return hits[0]


def test_account_events_are_recorded_with_who_and_where(server: LiveServer) -> None:
    with server.client(headers={"User-Agent": AGENT}) as http:
        actions = Actions(http)
        admin = actions.admin()
        admin_id = user_id(http, admin)
        invite = http.post("/api/v1/admin/invites", headers=admin.bearer, json={})
        invite_id = invite.json()["id"]
        name = random_name()
        registered = actions.register(name, invite_code=invite.json()["code"])
        member_id = registered.json()["id"]
        member = actions.login(name)
        assert (
            http.post("/api/v1/auth/logout", headers=member.bearer).status_code == 204
        )
        # Refresh-token reuse, in a second session of the admin.
        second = actions.login(admin.username)
        refreshed = http.post(
            "/api/v1/auth/refresh", json={"refresh_token": second.refresh_token}
        )
        assert refreshed.status_code == 200
        reused = http.post(
            "/api/v1/auth/refresh", json={"refresh_token": second.refresh_token}
        )
        assert reused.status_code == 401
        # Failed sign-ins, for an unknown name and until the member is locked.
        nobody = random_name("nobody")
        http.post("/api/v1/auth/login", json={"username": nobody, "password": WRONG})
        for _ in range(5):
            http.post("/api/v1/auth/login", json={"username": name, "password": WRONG})
        found = events(http, admin)

    for event in found:
        assert event["ip"] == "127.0.0.1", event
        assert event["user_agent"] == AGENT, event
        assert set(event) == {
            "id",
            "action",
            "at",
            "actor_id",
            "target_id",
            "org_id",
            "ip",
            "user_agent",
            "details",
        }
    one(found, action="user.created", actor_id=admin_id, target_id=admin_id)
    one(found, action="user.created", actor_id=member_id, target_id=member_id)
    one(found, action="login.succeeded", actor_id=admin_id, target_id=sid(admin))
    one(found, action="login.succeeded", actor_id=member_id, target_id=sid(member))
    one(found, action="invite.created", actor_id=admin_id, target_id=invite_id)
    one(found, action="invite.used", actor_id=member_id, target_id=invite_id)
    one(found, action="logout", actor_id=member_id, target_id=sid(member))
    reuse = one(found, action="refresh_token.reused", actor_id=admin_id)
    assert reuse["details"]["session_id"] == sid(second)
    failures = [e for e in found if e["action"] == "login.failed"]
    assert len(failures) == 6
    unknown = one(failures, actor_id=None)
    assert unknown["details"]["username"] == nobody
    for failure in failures:
        if failure is not unknown:
            assert failure["actor_id"] == member_id
            assert failure["details"]["username"] == name
            assert WRONG not in str(failure)  # the password tried is never logged
    one(found, action="account.locked", target_id=member_id)
    times = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in found]
    assert times == sorted(times, reverse=True)  # newest first
    assert all(abs(t - clock.now()) < timedelta(minutes=5) for t in times)


def test_filter_by_user_and_by_action(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    admin_id = user_id(client, admin)
    member = actions.user()
    member_id = user_id(client, member)
    client.post(
        "/api/v1/auth/login", json={"username": member.username, "password": WRONG}
    )

    mine = events(client, admin, user=member_id)
    assert {e["action"] for e in mine} == {
        "user.created",
        "invite.used",
        "login.succeeded",
        "login.failed",
    }
    for event in mine:
        assert member_id in (event["actor_id"], event["target_id"]), event

    failed = events(client, admin, action="login.failed")
    assert [e["actor_id"] for e in failed] == [member_id]
    created = events(client, admin, action="user.created")
    assert {e["target_id"] for e in created} == {admin_id, member_id}
    assert events(client, admin, action="no.such.action") == []
    assert events(client, admin, user="usr_nobody") == []


def test_filter_by_time(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    actions.invite()
    middle = clock.now() + timedelta(minutes=30)
    clock.advance(3600)
    admin = actions.login(admin.username)  # the first access token has expired
    actions.client.post("/api/v1/admin/invites", headers=admin.bearer, json={})

    everything = events(client, admin)
    before = events(client, admin, until=middle.isoformat())
    after = events(client, admin, since=middle.isoformat())
    assert before
    assert after
    assert {e["id"] for e in before} | {e["id"] for e in after} == {
        e["id"] for e in everything
    }
    assert not {e["id"] for e in before} & {e["id"] for e in after}
    assert [e["action"] for e in after] == ["invite.created", "login.succeeded"]
    assert "user.created" in {e["action"] for e in before}
    # "Z" and other offsets are the same instant.
    zulu = middle.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert events(client, admin, since=zulu) == after
    elsewhere = middle.astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert events(client, admin, since=elsewhere) == after
    window = events(
        client,
        admin,
        since=(middle - timedelta(hours=1)).isoformat(),
        until=(middle + timedelta(hours=1)).isoformat(),
    )
    assert window == everything


def test_cursor_pagination_walks_every_event_once(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    for _ in range(3):
        actions.invite()
    actions.user()
    everything = [e["id"] for e in events(client, admin)]
    assert len(everything) >= 7

    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        response = client.get(AUDIT, headers=admin.bearer, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [e["id"] for e in page["items"]]
        pages += 1
        assert pages < 50
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    # The walk started before these reads' own events (reads write none).
    assert seen == everything
    assert len(set(seen)) == len(seen)


def test_the_audit_log_is_for_administrators_only(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    member = actions.user()
    error(client.get(AUDIT, headers=member.bearer), 403, "forbidden")
    with server.client() as anonymous:
        error(anonymous.get(AUDIT), 401, "unauthenticated")
    # Bad filters: naive or malformed times, cursors and limits.
    for params in (
        {"since": "2024-01-01T00:00:00"},
        {"until": "2024-01-01T00:00:00"},
        {"since": "yesterday"},
        {"cursor": "abc"},
        {"cursor": "-1"},
        {"limit": 0},
        {"limit": 201},
    ):
        response = client.get(AUDIT, headers=admin.bearer, params=params)
        error(response, 400, "invalid_request")
