"""``/api/v1/access-tokens``: personal access tokens. Shown once, always
expiring (at most ``AUTHGATE_PAT_MAX_DAYS``), optionally narrowed by scopes,
revoked at once, and each person sees and manages only their own."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from authgate.util import clock, tokens
from tests.support import db
from tests.support.actions import Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.tamper import mangle

#: For checks of the HTTP layer and settings alone; whatever touches storage
#: runs on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DAY = 86_400
LISTED = {
    "id",
    "name",
    "display_prefix",
    "scopes",
    "org_id",
    "created_at",
    "last_used_at",
    "expires_at",
    "status",
}


def me(actions: Actions, token: str) -> httpx.Response:
    return actions.client.get("/api/v1/me", headers=Actions.bearer(token))


def listed(actions: Actions, login: Login) -> list[dict[str, Any]]:
    response = actions.client.get("/api/v1/access-tokens", headers=login.bearer)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def audit(actions: Actions, **query: str) -> list[dict[str, Any]]:
    response = actions.client.get(
        "/api/v1/admin/audit", headers=actions.admin().bearer, params=query
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_create_returns_the_secret_once(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    before = clock.now()
    response = client.post(
        "/api/v1/access-tokens",
        headers=alice.bearer,
        json={"name": "ci deploy", "expires_in_days": 30},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["token"]
    parsed = tokens.parse(secret)
    assert parsed is not None
    assert (parsed.prefix, parsed.kind) == ("ag", "pat")
    assert created["id"].startswith("tok_")
    assert created["name"] == "ci deploy"
    assert created["display_prefix"] == tokens.display_prefix(secret)
    assert secret.startswith(created["display_prefix"])
    assert len(created["display_prefix"]) < 16
    assert created["scopes"] == ["read", "write"]
    expires = datetime.fromisoformat(created["expires_at"])
    assert abs(expires - (before + timedelta(days=30))) < timedelta(minutes=1)

    # The secret works, and it is never shown again.
    assert me(actions, secret).status_code == 200
    response = client.get("/api/v1/access-tokens", headers=alice.bearer)
    assert secret not in response.text
    [item] = response.json()["items"]
    assert set(item) == LISTED
    assert item["id"] == created["id"]
    assert item["name"] == "ci deploy"
    assert item["display_prefix"] == created["display_prefix"]
    assert item["scopes"] == ["read", "write"]
    assert item["expires_at"] == created["expires_at"]
    assert item["created_at"]
    assert item["status"] == "active"


@SQLITE_ONLY
def test_a_pat_says_who_it_is(actions: Actions) -> None:
    alice = actions.user()
    pat = actions.make_pat(alice)
    body = me(actions, pat["token"]).json()
    assert body["username"] == alice.username
    assert body["auth"] == {"kind": "pat", "id": pat["id"]}


@SQLITE_ONLY
def test_expires_in_days_is_accepted_in_camel_case(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    response = client.post(
        "/api/v1/access-tokens",
        headers=alice.bearer,
        json={"name": "camel", "expiresInDays": 7},
    )
    assert response.status_code == 201, response.text
    expires = datetime.fromisoformat(response.json()["expires_at"])
    assert abs(expires - (clock.now() + timedelta(days=7))) < timedelta(minutes=1)


@SQLITE_ONLY
def test_lifetime_is_required_and_capped_at_a_year_by_default(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()

    def create(**body: object) -> httpx.Response:
        return client.post(
            "/api/v1/access-tokens",
            headers=alice.bearer,
            json={"name": random_name(), **body},
        )

    assert create(expires_in_days=365).status_code == 201
    error(create(expires_in_days=366), 400, "invalid_request")
    error(create(expires_in_days=0), 400, "invalid_request")
    error(create(expires_in_days=-1), 400, "invalid_request")
    error(create(), 400, "invalid_request")  # no token lives forever
    error(create(expires_in_days=None), 400, "invalid_request")
    assert len(listed(actions, alice)) == 1


@SQLITE_ONLY
def test_the_cap_follows_pat_max_days(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(pat_max_days=30)
    with server.client() as http:
        actions = Actions(http)
        alice = actions.user()
        assert actions.make_pat(alice, expires_in_days=30)
        response = http.post(
            "/api/v1/access-tokens",
            headers=alice.bearer,
            json={"name": "too long", "expires_in_days": 31},
        )
        body = error(response, 400, "invalid_request")
        assert "30" in body["error_description"]


def test_scopes_narrow_a_token(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    reader = actions.make_pat(alice, scopes=["read"])
    assert reader["scopes"] == ["read"]
    assert me(actions, reader["token"]).status_code == 200
    listing = client.get(
        "/api/v1/access-tokens", headers=Actions.bearer(reader["token"])
    )
    assert listing.status_code == 200
    # A read-only token can look but not touch.
    response = client.post(
        "/api/v1/access-tokens",
        headers=Actions.bearer(reader["token"]),
        json={"name": "escalate", "expires_in_days": 1},
    )
    error(response, 403, "insufficient_scope")
    response = client.delete(
        f"/api/v1/access-tokens/{reader['id']}",
        headers=Actions.bearer(reader["token"]),
    )
    error(response, 403, "insufficient_scope")
    assert me(actions, reader["token"]).status_code == 200

    writer = actions.make_pat(alice, scopes=["write", "read"])
    assert writer["scopes"] == ["read", "write"]
    made = client.post(
        "/api/v1/access-tokens",
        headers=Actions.bearer(writer["token"]),
        json={"name": "from a token", "expires_in_days": 1},
    )
    assert made.status_code == 201, made.text


@SQLITE_ONLY
def test_unknown_or_empty_scopes_are_refused(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    for scopes in (["sudo"], ["read", "openid"], [], "read"):
        response = client.post(
            "/api/v1/access-tokens",
            headers=alice.bearer,
            json={"name": "bad", "expires_in_days": 1, "scopes": scopes},
        )
        error(response, 400, "invalid_request")
    assert listed(actions, alice) == []


def test_revoked_token_fails_on_the_very_next_request(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    pat = actions.make_pat(alice)
    keep = actions.make_pat(alice)
    assert me(actions, pat["token"]).status_code == 200  # now cached
    response = client.delete(f"/api/v1/access-tokens/{pat['id']}", headers=alice.bearer)
    assert response.status_code == 204, response.text
    body = error(me(actions, pat["token"]), 401, "invalid_token")
    assert "revoked" in body["error_description"]
    assert [t["id"] for t in listed(actions, alice)] == [keep["id"]]
    assert me(actions, keep["token"]).status_code == 200


def test_expired_token_says_so(actions: Actions) -> None:
    alice = actions.user()
    pat = actions.make_pat(alice, expires_in_days=1)
    clock.advance(DAY + 1)
    body = error(me(actions, pat["token"]), 401, "invalid_token")
    assert "expired" in body["error_description"]
    [item] = listed(actions, actions.login(alice.username))  # the JWT expired too
    assert item["status"] == "expired"


@SQLITE_ONLY
def test_a_mangled_token_is_refused(actions: Actions) -> None:
    alice = actions.user()
    secret = actions.make_pat(alice)["token"]
    flipped = mangle(secret)
    error(me(actions, flipped), 401, "invalid_token")
    error(me(actions, secret + "x"), 401, "invalid_token")


def test_one_user_cannot_see_or_revoke_anothers_tokens(
    actions: Actions, client: httpx.Client
) -> None:
    alice, bob = actions.user(), actions.user()
    alices = actions.make_pat(alice)
    bobs = actions.make_pat(bob)
    alices_key = actions.make_key(alice, permission="write")

    assert [t["id"] for t in listed(actions, alice)] == [alices["id"]]
    assert [t["id"] for t in listed(actions, bob)] == [bobs["id"]]

    # Guessing ids: another's token, an API key's id, an unknown id.
    for guess in (alices["id"], alices_key["id"], "tok_doesnotexist"):
        response = client.delete(f"/api/v1/access-tokens/{guess}", headers=bob.bearer)
        error(response, 404, "not_found")
    # Nor through a token of bob's own.
    response = client.delete(
        f"/api/v1/access-tokens/{alices['id']}", headers=Actions.bearer(bobs["token"])
    )
    error(response, 404, "not_found")

    assert me(actions, alices["token"]).json()["username"] == alice.username
    assert me(actions, alices_key["token"]).status_code == 200
    assert [t["id"] for t in listed(actions, alice)] == [alices["id"]]


def test_create_revoke_and_use_after_revoke_are_audited(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    pat = actions.make_pat(alice, name="audited")
    client.delete(f"/api/v1/access-tokens/{pat['id']}", headers=alice.bearer)
    error(me(actions, pat["token"]), 401, "invalid_token")

    user_id = client.get("/api/v1/me", headers=alice.bearer).json()["id"]
    events = audit(actions, user=user_id)
    by_action = {e["action"]: e for e in events if e["target_id"] == pat["id"]}
    assert set(by_action) >= {
        "access_token.created",
        "access_token.revoked",
        "credential.used_after_revoke",
    }
    for event in by_action.values():
        assert event["actor_id"] == user_id
        assert event["ip"] == "127.0.0.1"  # who used it after the revocation too
    assert by_action["access_token.created"]["details"]["name"] == "audited"
    response = client.get(
        "/api/v1/admin/audit", headers=actions.admin().bearer, params={"limit": 200}
    )
    assert pat["token"] not in response.text
    assert pat["token"][len("ag_pat_") :] not in response.text


def test_no_table_holds_a_secret(
    actions: Actions, client: httpx.Client, database_url: str
) -> None:
    """After minting a PAT, an API key and a recovery key (and signing in), no
    column of any table holds a secret, only its digest."""
    alice = actions.user()
    pat = actions.make_pat(alice)["token"]
    key = actions.make_key(alice, permission="write")["token"]
    response = client.post(
        "/api/v1/recovery-key",
        headers=alice.bearer,
        json={"password": "correct horse battery staple"},
    )
    assert response.status_code == 201, response.text
    recovery = response.json()["recovery_key"]
    session = alice.cookies.get("ag_session")
    assert session
    for secret in (pat, key):  # used once, so last_used_at was written
        assert me(actions, secret).status_code == 200
    # Revoked and used again, so every audit entry about them is written too.
    spent_pat = actions.make_pat(alice)
    spent_key = actions.make_key(alice)
    client.delete(f"/api/v1/access-tokens/{spent_pat['id']}", headers=alice.bearer)
    client.delete(f"/api/v1/api-keys/{spent_key['id']}", headers=alice.bearer)
    for spent in (spent_pat, spent_key):
        error(me(actions, spent["token"]), 401, "invalid_token")

    found = db.dump(database_url)
    assert {"credentials", "recovery_keys", "audit_events", "sessions"} <= set(found)
    audited = {(e["action"], e["target_id"]) for e in found["audit_events"]}
    assert ("credential.used_after_revoke", spent_pat["id"]) in audited
    assert ("credential.used_after_revoke", spent_key["id"]) in audited
    everything = repr(found)
    secrets = (pat, key, recovery, session, alice.refresh_token)
    for secret in (*secrets, spent_pat["token"], spent_key["token"]):
        _prefix, kind, body = secret.split("_", 2)
        assert secret not in everything, f"a {kind} secret is stored"
        assert body not in everything, f"a {kind} secret's random part is stored"
        assert body[: tokens.RANDOM_CHARS] not in everything
    # The scan looks where the secrets would be: their digests are there.
    for secret in (pat, key, recovery):
        assert tokens.digest(secret) in everything
