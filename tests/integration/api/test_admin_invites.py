"""``/api/v1/admin/invites``: administrators create, list and revoke instance
invites; the code is shown once and never stored."""

import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from authgate.util import clock
from tests.support import db
from tests.support.actions import Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

INVITES = "/api/v1/admin/invites"
DAY = 86_400


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def statuses(client: httpx.Client, admin: Login) -> dict[str, str]:
    response = client.get(INVITES, headers=admin.bearer)
    assert response.status_code == 200, response.text
    return {item["id"]: item["status"] for item in response.json()["items"]}


def test_create_an_invite(actions: Actions, client: httpx.Client) -> None:
    admin = actions.admin()
    response = client.post(INVITES, headers=admin.bearer, json={"expires_in_days": 7})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "code", "expires_at"}
    assert body["id"].startswith("inv_")
    assert body["code"].startswith("ag_inv_")
    expected = clock.now() + timedelta(days=7)
    assert abs(at(body["expires_at"]) - expected) < timedelta(minutes=1)

    forever = client.post(INVITES, headers=admin.bearer, json={})
    assert forever.status_code == 201, forever.text
    assert forever.json()["expires_at"] is None
    no_body = client.post(INVITES, headers=admin.bearer)
    assert no_body.status_code == 201, no_body.text
    assert len({body["code"], forever.json()["code"], no_body.json()["code"]}) == 3

    camel = client.post(INVITES, headers=admin.bearer, json={"expiresInDays": 3})
    assert camel.status_code == 201, camel.text
    expected = clock.now() + timedelta(days=3)
    assert abs(at(camel.json()["expires_at"]) - expected) < timedelta(minutes=1)

    days: object
    for days in (1, 365):
        response = client.post(
            INVITES, headers=admin.bearer, json={"expires_in_days": days}
        )
        assert response.status_code == 201, response.text
    for days in (0, -1, 366, 10**9, "x", 1.5, [], {}):
        response = client.post(
            INVITES, headers=admin.bearer, json={"expires_in_days": days}
        )
        error(response, 400, "invalid_request")
    assert len(statuses(client, admin)) == 6  # only the valid ones were made


def test_listing_shows_each_invite_status(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    me = client.get("/api/v1/me", headers=admin.bearer).json()

    def create(**body: object) -> dict[str, str]:
        response = client.post(INVITES, headers=admin.bearer, json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    unused, used, revoked = create(), create(), create()
    expiring = create(expires_in_days=1)
    registered = actions.register(random_name(), invite_code=used["code"])
    assert registered.status_code == 201
    assert (
        client.delete(f"{INVITES}/{revoked['id']}", headers=admin.bearer).status_code
        == 204
    )

    listing = client.get(INVITES, headers=admin.bearer)
    assert listing.status_code == 200, listing.text
    page = listing.json()
    assert set(page) == {"items", "next_cursor"}
    items = {item["id"]: item for item in page["items"]}
    for item in items.values():
        assert "code" not in item
        assert item["created_by"] == me["id"]
    assert items[unused["id"]]["status"] == "unused"
    assert items[expiring["id"]]["status"] == "unused"
    assert items[used["id"]]["status"] == "used"
    assert items[used["id"]]["used_by"] == registered.json()["id"]
    assert items[used["id"]]["used_at"] is not None
    assert items[revoked["id"]]["status"] == "revoked"
    assert items[unused["id"]]["used_by"] is None

    # Only an unused invite can be revoked.
    for invite_id in (used["id"], revoked["id"], "inv_nope"):
        response = client.delete(f"{INVITES}/{invite_id}", headers=admin.bearer)
        error(response, 404, "not_found")

    clock.advance(DAY + 1)
    admin = actions.login(admin.username)  # the first access token has expired
    assert statuses(client, admin) == {
        unused["id"]: "unused",
        used["id"]: "used",
        revoked["id"]: "revoked",
        expiring["id"]: "expired",
    }


def test_invites_are_for_administrators_only(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    user = actions.user()  # used one invite
    assert actions.invite()
    admin = actions.admin()
    unused = next(i for i, s in statuses(client, admin).items() if s == "unused")
    for method, path in (
        ("POST", INVITES),
        ("GET", INVITES),
        ("DELETE", f"{INVITES}/{unused}"),
    ):
        body: dict[str, Any] = {"json": {}} if method == "POST" else {}
        with server.client() as anonymous:
            error(anonymous.request(method, path, **body), 401, "unauthenticated")
        error(
            client.request(method, path, headers=user.bearer, **body), 403, "forbidden"
        )
    # Nothing the refused calls did stuck: still the admin's two invites.
    assert sorted(statuses(client, admin).values()) == ["unused", "used"]


def test_the_invite_code_is_never_stored(actions: Actions, database_url: str) -> None:
    used = actions.invite()
    unused = actions.invite()
    assert actions.register(random_name(), invite_code=used).status_code == 201
    everything = json.dumps(db.dump(database_url), default=repr)
    for code in (used, unused):
        assert code not in everything
        random_part = code.split("_", 2)[2]
        assert random_part not in everything
        assert random_part[:20] not in everything
