"""What each credential may do (``domain/authority.py``): PATs, API keys,
client-credentials tokens and first-party sign-ins against a live server.
Other OAuth clients' tokens, obtained through real flows, are in
``tests/integration/oauth/test_client_powers.py``."""

from datetime import datetime, timedelta

import httpx
import jwt
import pytest
from authlib.integrations.base_client import OAuthError

from authgate.util import clock
from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import oauth_client

# The rules live above storage; one database is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ADMIN_GETS = (
    "/api/v1/admin/users",
    "/api/v1/admin/invites",
    "/api/v1/admin/audit",
    "/api/v1/admin/clients",
)


def pat(
    client: httpx.Client, headers: dict[str, str], days: int = 30, **body: object
) -> httpx.Response:
    return client.post(
        "/api/v1/access-tokens",
        headers=headers,
        json={"name": random_name("pat"), "expires_in_days": days, **body},
    )


def key(
    client: httpx.Client, headers: dict[str, str], **body: object
) -> httpx.Response:
    return client.post(
        "/api/v1/api-keys", headers=headers, json={"name": random_name("key"), **body}
    )


def bearer(created: httpx.Response) -> dict[str, str]:
    assert created.status_code == 201, created.text
    return Actions.bearer(created.json()["token"])


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_pat_reaches_admin_endpoints_only_with_the_admin_scope(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    plain = bearer(pat(client, admin.bearer))
    for path in ADMIN_GETS:
        error(client.get(path, headers=plain), 403, "insufficient_scope")
    error(client.post("/api/v1/admin/invites", headers=plain, json={}), 403)

    with_admin = bearer(pat(client, admin.bearer, scopes=["read", "write", "admin"]))
    for path in ADMIN_GETS:
        assert client.get(path, headers=with_admin).status_code == 200, path
    made = client.post("/api/v1/admin/invites", headers=with_admin, json={})
    assert made.status_code == 201, made.text
    me = client.get("/api/v1/me", headers=with_admin).json()
    assert me["is_admin"] is True


def test_a_token_asked_without_scopes_never_gets_admin(
    actions: Actions, client: httpx.Client
) -> None:
    created = pat(client, actions.admin().bearer)
    assert created.json()["scopes"] == ["read", "write"]


def test_only_an_administrator_gives_the_admin_scope(
    actions: Actions, client: httpx.Client
) -> None:
    admin, user = actions.admin(), actions.user()
    refused = pat(client, user.bearer, scopes=["read", "admin"])
    error(refused, 403, "forbidden")
    assert "admin scope" in refused.json()["error_description"]
    # Nor can an administrator's token without it give it: no more than itself.
    plain = bearer(pat(client, admin.bearer))
    error(pat(client, plain, days=1, scopes=["read", "admin"]), 403, "forbidden")
    with_admin = bearer(pat(client, admin.bearer, scopes=["read", "write", "admin"]))
    assert pat(client, with_admin, days=1, scopes=["read", "admin"]).is_success
    listed = client.get("/api/v1/access-tokens", headers=user.bearer).json()["items"]
    assert listed == []


def test_an_admin_token_is_no_admin_once_its_person_is_not(
    actions: Actions, client: httpx.Client
) -> None:
    admin, other = actions.admin(), actions.user()
    other_id = client.get("/api/v1/me", headers=other.bearer).json()["id"]
    promoted = client.patch(
        f"/api/v1/admin/users/{other_id}", headers=admin.bearer, json={"is_admin": True}
    )
    assert promoted.status_code == 200, promoted.text
    token = bearer(pat(client, other.bearer, scopes=["read", "write", "admin"]))
    assert client.get("/api/v1/admin/users", headers=token).status_code == 200
    demoted = client.patch(
        f"/api/v1/admin/users/{other_id}",
        headers=admin.bearer,
        json={"is_admin": False},
    )
    assert demoted.status_code == 200, demoted.text
    error(client.get("/api/v1/admin/users", headers=token), 403, "forbidden")


def test_api_keys_never_reach_admin_endpoints(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    for permission in ("read", "write"):
        headers = bearer(key(client, admin.bearer, permission=permission))
        for path in ADMIN_GETS:
            error(client.get(path, headers=headers), 403, "insufficient_scope")
        # Nor does a key made by an admin token carry administration along.
    with_admin = bearer(pat(client, admin.bearer, scopes=["read", "write", "admin"]))
    made = bearer(key(client, with_admin, permission="write"))
    error(client.get("/api/v1/admin/users", headers=made), 403, "insufficient_scope")


def test_an_api_key_made_with_a_one_day_pat_ends_with_it(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    created = pat(client, admin.bearer, days=1)
    short = bearer(created)
    ceiling = when(created.json()["expires_at"])

    made = key(client, short, permission="write")
    assert made.status_code == 201, made.text
    assert made.json()["expires_at"] is not None
    assert when(made.json()["expires_at"]) <= ceiling
    asked_longer = key(client, short, permission="read", expires_in_days=30)
    error(asked_longer, 403, "forbidden")
    assert "outlive" in asked_longer.json()["error_description"]

    made_key = Actions.bearer(made.json()["token"])
    assert client.get("/api/v1/me", headers=made_key).status_code == 200
    error(client.get("/api/v1/admin/users", headers=made_key), 403)
    clock.advance(timedelta(days=1, minutes=1).total_seconds())
    error(client.get("/api/v1/me", headers=made_key), 401)


def test_an_api_key_has_no_more_permission_than_its_pat(
    actions: Actions, client: httpx.Client
) -> None:
    user = actions.user()
    write_only = bearer(pat(client, user.bearer, scopes=["write"]))
    # A key's permission is read, or read and write: both need read.
    for permission in ("read", "write"):
        refused = key(client, write_only, permission=permission)
        error(refused, 403, "forbidden")
    both = bearer(pat(client, user.bearer))
    assert key(client, both, permission="write").status_code == 201
    listed = client.get("/api/v1/api-keys", headers=user.bearer).json()["items"]
    assert len(listed) == 1


def test_a_read_only_credential_creates_nothing(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    org = actions.make_org(admin)["id"]
    readers = [
        bearer(pat(client, admin.bearer, scopes=["read"])),
        bearer(pat(client, admin.bearer, scopes=["read", "admin"])),
        bearer(key(client, admin.bearer, permission="read", org=org)),
    ]
    creations = [
        ("/api/v1/access-tokens", {"name": "t", "expires_in_days": 1}),
        ("/api/v1/api-keys", {"name": "k"}),
        ("/api/v1/orgs", {"name": "Made read-only"}),
        (f"/api/v1/orgs/{org}/invites", {"email": "x@example.com", "role": "member"}),
        ("/api/v1/recovery-key", {"password": "unused-password-1"}),
        ("/api/v1/admin/invites", {}),
        ("/api/v1/admin/users", {"username": random_name(), "password": "x" * 16}),
    ]
    for headers in readers:
        for path, body in creations:
            response = client.post(path, headers=headers, json=body)
            error(response, 403, "insufficient_scope")
    tokens = client.get("/api/v1/access-tokens", headers=admin.bearer).json()["items"]
    assert len(tokens) == 2
    keys = client.get("/api/v1/api-keys", headers=admin.bearer).json()["items"]
    assert len(keys) == 1
    orgs = client.get("/api/v1/orgs", headers=admin.bearer).json()["items"]
    assert [o["id"] for o in orgs] == [org]
    invites = client.get("/api/v1/admin/invites", headers=admin.bearer).json()
    assert invites["items"] == []


def test_api_keys_create_and_change_nothing_of_the_account(
    actions: Actions, client: httpx.Client
) -> None:
    owner, member = actions.user(), actions.person()
    org = actions.make_org(owner)["id"]
    invite = actions.org_invite(owner, org, "someone@example.com")
    writer = bearer(key(client, owner.bearer, permission="write", org=org))
    member_id = client.get("/api/v1/me", headers=member.bearer).json()["id"]
    session_id = client.get("/api/v1/sessions", headers=owner.bearer).json()["items"][0]
    refused = [
        ("POST", "/api/v1/access-tokens", {"name": "t", "expires_in_days": 1}),
        ("POST", "/api/v1/api-keys", {"name": "k"}),
        ("POST", "/api/v1/recovery-key", {"password": "unused-password-1"}),
        ("POST", f"/api/v1/orgs/{org}/invites", {"email": "y@example.com"}),
        ("DELETE", f"/api/v1/orgs/{org}/invites/{invite['id']}", None),
        ("PATCH", f"/api/v1/orgs/{org}/members/{member_id}", {"role": "admin"}),
        ("DELETE", f"/api/v1/orgs/{org}/members/{member_id}", None),
        ("DELETE", f"/api/v1/orgs/{org}", None),
        ("DELETE", f"/api/v1/sessions/{session_id['id']}", None),
        ("POST", "/api/v1/sessions/revoke-all", None),
    ]
    for method, path, body in refused:
        response = client.request(method, path, headers=writer, json=body)
        error(response, 403, "forbidden")
    assert client.get("/api/v1/me", headers=owner.bearer).status_code == 200
    assert client.get(f"/api/v1/orgs/{org}", headers=owner.bearer).status_code == 200


def test_a_client_credentials_token_is_refused_with_403_not_500(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    service = actions.make_client(
        grant_types=["client_credentials"], scope="read write admin"
    )
    meta = client.get("/.well-known/oauth-authorization-server").json()
    with oauth_client(meta, service["client_id"], service["client_secret"]) as app:
        token = app.fetch_token(grant_type="client_credentials", scope="read write")
        # No person approves a client-credentials grant: no admin scope for it.
        with pytest.raises(OAuthError) as refused:
            app.fetch_token(grant_type="client_credentials", scope="read admin")
        assert refused.value.error == "invalid_scope"
    headers = Actions.bearer(token["access_token"])
    for method, path, body in (
        ("POST", "/api/v1/access-tokens", {"name": "t", "expires_in_days": 1}),
        ("POST", "/api/v1/api-keys", {"name": "k"}),
        ("POST", "/api/v1/recovery-key", {"password": "unused-password-1"}),
        ("POST", "/api/v1/sessions/revoke-all", None),
        ("DELETE", "/api/v1/access-tokens/tok_nope", None),
        ("GET", "/api/v1/admin/users", None),
    ):
        response = client.request(method, path, headers=headers, json=body)
        body_ = error(response, 403, "forbidden")
        assert "person" in body_["error_description"], path


def test_first_party_sign_ins_do_everything(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token}
    )
    assert refreshed.status_code == 200, refreshed.text
    for headers in (admin.bearer, Actions.bearer(refreshed.json()["access_token"])):
        everything(client, actions, headers)
    signed_in = actions.login(admin.username)
    with server.client() as browser:
        browser.cookies.set("ag_session", signed_in.cookies["ag_session"])
        browser.cookies.set("ag_csrf", signed_in.cookies["ag_csrf"])
        everything(
            browser,
            actions,
            {"Origin": server.url, "X-CSRF-Token": signed_in.cookies["ag_csrf"]},
        )


def everything(http: httpx.Client, actions: Actions, headers: dict[str, str]) -> None:
    """Administration, minting, a recovery key, org membership and a session,
    all with one credential."""
    for path in ADMIN_GETS:
        assert http.get(path, headers=headers).status_code == 200, path
    assert pat(http, headers, scopes=["read", "admin"]).status_code == 201
    made = key(http, headers, permission="write")
    assert made.status_code == 201, made.text
    assert made.json()["expires_at"] is None  # a sign-in bounds nothing
    revoked = http.delete(f"/api/v1/api-keys/{made.json()['id']}", headers=headers)
    assert revoked.status_code == 204, revoked.text
    recovery = http.post(
        "/api/v1/recovery-key", headers=headers, json={"password": PASSWORD}
    )
    assert recovery.status_code == 201, recovery.text
    org = http.post("/api/v1/orgs", headers=headers, json={"name": random_name("O")})
    assert org.status_code == 201, org.text
    invited = http.post(
        f"/api/v1/orgs/{org.json()['id']}/invites",
        headers=headers,
        json={"email": "z@example.com", "role": "member"},
    )
    assert invited.status_code == 201, invited.text
    other = actions.login(actions.admin().username)  # a session to end
    sid = jwt.decode(other.access_token, options={"verify_signature": False})["sid"]
    response = http.delete(f"/api/v1/sessions/{sid}", headers=headers)
    assert response.status_code == 204, response.text
    error(http.get("/api/v1/me", headers=other.bearer), 401)


def test_registering_a_client_with_a_bearer_needs_write(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    confidential = {
        "client_name": "Registered by a token",
        "redirect_uris": ["https://app.example.com/cb"],
        "token_endpoint_auth_method": "client_secret_basic",
    }
    read_only = bearer(pat(client, admin.bearer, scopes=["read", "admin"]))
    refused = client.post("/oauth/register", headers=read_only, json=confidential)
    error(refused, 403, "insufficient_scope")
    # A token that may write but not administer registers what anyone may.
    writer = bearer(pat(client, admin.bearer))
    error(
        client.post("/oauth/register", headers=writer, json=confidential),
        400,
        "invalid_client_metadata",
    )
    administrator = bearer(pat(client, admin.bearer, scopes=["write", "admin"]))
    made = client.post("/oauth/register", headers=administrator, json=confidential)
    assert made.status_code == 201, made.text
    assert made.json()["client_secret"]
    listed = client.get("/api/v1/admin/clients", headers=admin.bearer).json()["items"]
    registered = [c["name"] for c in listed if c["registration"] != "builtin"]
    assert registered == ["Registered by a token"]


def test_a_bearer_token_never_reaches_a_page(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    token = admin.bearer
    with server.client() as fresh:  # no cookie in its jar
        for path in (
            "/settings/profile",
            "/settings/security",
            "/settings/sessions",
            "/settings/tokens",
            "/settings/keys",
            "/admin/users",
            "/admin/clients",
        ):
            response = fresh.get(path, headers=token)
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"].startswith("/login")
        for path, form in (
            ("/settings/tokens", {"name": "by bearer", "expires_in_days": "1"}),
            ("/admin/invites", {}),
        ):
            posted = fresh.post(
                path, headers={**token, "Origin": server.url}, data=form
            )
            assert posted.status_code in (303, 403), (path, posted.status_code)
    listed = client.get("/api/v1/access-tokens", headers=admin.bearer).json()["items"]
    assert listed == []
    invites = client.get("/api/v1/admin/invites", headers=admin.bearer).json()
    assert invites["items"] == []
