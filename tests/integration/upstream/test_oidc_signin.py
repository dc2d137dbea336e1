"""Sign-in through a generic OIDC issuer (``oidc-provider-mock`` on loopback),
walked with httpx: accounts (just in time, linking, the invite rule, the
allowlist), the state cookie (sealed, bound, expiring, single use) and the ID
token checks (nonce, expiry, the issuer's key rotation)."""

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from authgate.util import clock
from tests.support import db, mailbox
from tests.support.actions import PASSWORD, Actions, random_email, random_name
from tests.support.asserts import present
from tests.support.live import LiveServer
from tests.support.upstream import (
    MockIssuer,
    SignIn,
    audit_events,
    links,
    mock_issuer,
    oidc_settings,
    query,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def issuer() -> Iterator[MockIssuer]:
    with mock_issuer() as found:
        yield found


@pytest.fixture
def start(start_server: Callable[..., LiveServer], issuer: MockIssuer) -> Any:
    def start_oidc(**overrides: Any) -> LiveServer:
        return start_server(**oidc_settings(issuer.url), **overrides)

    return start_oidc


def person(issuer: MockIssuer, *, verified: bool = True, **claims: Any) -> str:
    """A person at the issuer: their subject, with an email (verified or not)."""
    sub = random_name("sub")
    values = {"email": random_email(), "email_verified": verified, **claims}
    issuer.set_user(sub, **values)
    return sub


def sign_in(
    server: LiveServer, sub: str, *, next: str | None = None, invite: str | None = None
) -> tuple[httpx.Response, httpx.Client]:
    http = server.client()
    flow = SignIn(http)
    flow.start(next=next, invite=invite)
    flow.approve_at_mock(sub)
    return flow.finish(), http


def me(http: httpx.Client) -> dict[str, Any]:
    response = http.get("/api/v1/me")
    assert response.status_code == 200, response.text
    return dict(response.json())


def refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code in (400, 403), response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign-in refused" in response.text
    assert f"<code>{reason}</code>" in response.text
    assert "ag_session" not in response.cookies


# -- signing in


def test_first_sign_in_creates_the_account_and_a_session(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    server = start()
    sub = person(issuer, preferred_username="Ada.Lovelace")
    response, http = sign_in(server, sub, next="/settings/tokens?tab=1")

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/settings/tokens?tab=1"
    assert {"ag_session", "ag_csrf", "ag_refresh"} <= set(http.cookies.keys())
    account = me(http)
    assert account["username"] == "ada.lovelace"
    assert account["is_admin"] is True  # the first user of an empty instance
    created = audit_events(database_url, "user.created")[0]
    assert created.details["provider"] == "oidc"
    login = audit_events(database_url, "login.succeeded")[0]
    assert login.actor_id == account["id"]
    assert login.details == {"method": "oidc"}
    [link] = links(database_url, account["id"])
    assert (link.provider, link.subject) == ("oidc", sub)


def test_signing_in_again_is_the_same_account(start: Any, issuer: MockIssuer) -> None:
    server = start()
    sub = person(issuer)
    first = me(sign_in(server, sub)[1])
    second = me(sign_in(server, sub)[1])
    assert second["id"] == first["id"]


def test_a_taken_username_is_made_unique(start: Any, issuer: MockIssuer) -> None:
    server = start(allow_registration=True)
    actions = Actions(server.client())
    assert actions.register("grace").status_code == 201
    sub = person(issuer, preferred_username="grace")
    assert me(sign_in(server, sub)[1])["username"] == "grace-2"


def test_next_must_stay_on_this_site(start: Any, issuer: MockIssuer) -> None:
    server = start()
    response, _ = sign_in(server, person(issuer), next="//evil.example/steal")
    assert response.headers["location"] == "/settings"


def test_the_readiness_check_names_the_provider(start: Any) -> None:
    body = start().client().get("/readyz").json()
    assert body["provider"] == "oidc"


# -- linking by email


def test_a_verified_email_links_the_existing_account(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    server = start()
    actions = Actions(server.client())
    email = random_email()
    admin = actions.admin()
    existing = actions.register(
        random_name(), email=email, invite_code=actions.invite()
    ).json()
    mailbox.verify(server, server.client(), email)
    sub = person(issuer, email=email.upper(), verified=True)
    response, http = sign_in(server, sub)
    assert response.status_code == 303, response.text
    assert me(http)["id"] == existing["id"]
    assert existing["id"] != me(server.client(cookies=admin.cookies))["id"]
    [link] = links(database_url, existing["id"])
    assert link.subject == sub
    linked = audit_events(database_url, "identity.linked")[0]
    assert linked.details["provider"] == "oidc"
    assert linked.target_id == existing["id"]


def test_an_account_that_never_verified_its_address_is_not_linked(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    """Account pre-hijacking: an address registered here but never verified
    (anyone can type another person's) does not take that person's verified
    upstream sign-in into the account."""
    server = start(allow_registration=True)
    actions = Actions(server.client())
    email = random_email()
    squatter = actions.register(random_name(), email=email).json()
    sub = person(issuer, email=email, verified=True)
    response, _ = sign_in(server, sub)
    refused(response, "account_email_unverified")
    assert "has not verified the address" in response.text
    assert links(database_url, squatter["id"]) == []


def test_an_unverified_email_is_not_linked(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    server = start(allow_registration=True)
    actions = Actions(server.client())
    email = random_email()
    existing = actions.register(random_name(), email=email).json()
    sub = person(issuer, email=email, verified=False)
    response, _ = sign_in(server, sub)
    refused(response, "email_unverified")
    assert links(database_url, existing["id"]) == []
    event = audit_events(database_url, "login.refused")[0]
    assert event.details["provider"] == "oidc"
    assert event.details["reason"] == "email_unverified"


def test_a_new_account_keeps_an_unverified_email_out(
    start: Any, issuer: MockIssuer
) -> None:
    server = start()
    sub = person(issuer, verified=False)
    account = me(sign_in(server, sub)[1])
    assert account["email"] is None


# -- who may sign up


def test_an_invite_only_instance_refuses_a_new_person(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    server = start()
    Actions(server.client()).admin()
    response, _ = sign_in(server, person(issuer))
    refused(response, "invite_required")
    assert "invite-only" in response.text


def test_an_invite_lets_a_new_person_in_once(start: Any, issuer: MockIssuer) -> None:
    server = start()
    actions = Actions(server.client())
    code = actions.invite()
    response, http = sign_in(server, person(issuer), invite=code)
    assert response.status_code == 303, response.text
    assert me(http)["is_admin"] is False
    again, _ = sign_in(server, person(issuer), invite=code)
    refused(again, "invite_invalid")


def test_an_org_invite_makes_no_account_on_an_invite_only_instance(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    server = start()
    actions = Actions(server.client())
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    email = random_email()
    code = actions.org_invite(owner, org, email)["code"]
    users = db.count_users(database_url)
    response, _ = sign_in(server, person(issuer, email=email), invite=code)
    refused(response, "org_invite_needs_account")
    assert db.count_users(database_url) == users
    # Where the instance lets org invites make accounts, the same link does
    # (a second server on the same database, with the setting).
    allowing = start(org_invites_create_accounts=True)
    response, http = sign_in(allowing, person(issuer, email=email), invite=code)
    assert response.status_code == 303, response.text
    assert [o["id"] for o in http.get("/api/v1/orgs").json()["items"]] == [org]


def test_open_registration_needs_no_invite(start: Any, issuer: MockIssuer) -> None:
    server = start(allow_registration=True)
    Actions(server.client()).admin()
    response, _ = sign_in(server, person(issuer))
    assert response.status_code == 303, response.text


def test_the_allowlist_refuses_other_addresses(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    server = start(signin_allowed_emails="boss@example.com,@allowed.example")
    response, _ = sign_in(server, person(issuer, email="someone@example.com"))
    refused(response, "email_not_allowed")
    assert "someone@example.com is not allowed to sign in here" in response.text
    event = audit_events(database_url, "login.refused")[0]
    assert event.details["reason"] == "email_not_allowed"
    assert event.details["email"] == "someone@example.com"

    allowed, _ = sign_in(server, person(issuer, email="ann@allowed.example"))
    assert allowed.status_code == 303, allowed.text


def test_the_allowlist_needs_a_verified_address(start: Any, issuer: MockIssuer) -> None:
    server = start(signin_allowed_emails="@allowed.example")
    sub = person(issuer, email="eve@allowed.example", verified=False)
    response, _ = sign_in(server, sub)
    refused(response, "email_unverified")


def test_a_disabled_account_cannot_sign_in(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    from tests.support import db

    server = start()
    sub = person(issuer)
    account = me(sign_in(server, sub)[1])

    async def disable(tx: Any) -> None:
        await tx.users.set_disabled(account["id"], clock.now())

    db.run(database_url, disable)
    response, _ = sign_in(server, sub)
    refused(response, "account_disabled")


# -- the state cookie


def started(server: LiveServer, issuer: MockIssuer) -> tuple[SignIn, str]:
    flow = SignIn(server.client())
    flow.start()
    return flow, flow.approve_at_mock(person(issuer))


def test_a_tampered_state_cookie_is_refused(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    flow, _ = started(start(), issuer)
    sealed = flow.http.cookies.get("ag_upstream")
    assert sealed
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    flow.http.cookies.set("ag_upstream", flipped, path="/auth/callback")
    refused(flow.finish(), "state_invalid")
    assert audit_events(database_url, "login.refused")[0].details == {
        "provider": "oidc",
        "reason": "state_invalid",
    }


def test_a_replayed_callback_is_refused(start: Any, issuer: MockIssuer) -> None:
    flow, callback = started(start(), issuer)
    sealed = present(flow.http.cookies.get("ag_upstream"))
    assert flow.finish().status_code == 303
    flow.http.cookies.set("ag_upstream", sealed, path="/auth/callback")
    refused(flow.finish(callback), "state_replayed")


def test_a_callback_for_another_attempt_is_refused(
    start: Any, issuer: MockIssuer
) -> None:
    server = start()
    flow, _ = started(server, issuer)
    other = SignIn(server.client())
    other.start()
    stolen = other.approve_at_mock(person(issuer))
    refused(flow.finish(stolen), "state_mismatch")


def test_a_callback_without_the_cookie_is_refused(
    start: Any, issuer: MockIssuer
) -> None:
    server = start()
    _, callback = started(server, issuer)
    refused(SignIn(server.client()).finish(callback), "state_missing")


def test_the_state_expires_after_ten_minutes(start: Any, issuer: MockIssuer) -> None:
    flow, _ = started(start(), issuer)
    clock.advance(10 * 60 + 1)
    refused(flow.finish(), "state_expired")


def test_the_cookie_is_scoped_and_protected(start: Any) -> None:
    response = start().client().get("/login/provider")
    header = response.headers["set-cookie"]
    assert header.startswith("ag_upstream=")
    lowered = header.lower()
    assert "path=/auth/callback" in lowered
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "max-age=600" in lowered


def test_the_provider_refusing_is_a_refusal_page(
    start: Any, issuer: MockIssuer
) -> None:
    flow = SignIn(start().client())
    authorize = flow.start()
    state = query(authorize)["state"]
    response = flow.finish(
        "/auth/callback?" + urlencode({"error": "access_denied", "state": state})
    )
    refused(response, "provider_error")
    assert "cancelled" in response.text


# -- the ID token


def test_a_wrong_nonce_is_refused(
    start: Any, issuer: MockIssuer, database_url: str
) -> None:
    flow = SignIn(start().client())
    authorize = flow.start()
    params = query(authorize)
    params["nonce"] = "not-the-nonce-authgate-sent"
    base = authorize.split("?", 1)[0]
    flow.approve_at_mock(person(issuer), f"{base}?{urlencode(params)}")
    refused(flow.finish(), "nonce_mismatch")


def test_an_expired_id_token_is_refused(start: Any, issuer: MockIssuer) -> None:
    server = start()
    # The mock signs with the real time; to Authgate it is two hours later,
    # past the token's one-hour lifetime (and any leeway).
    clock.advance(2 * 3600)
    response, _ = sign_in(server, person(issuer))
    refused(response, "id_token_expired")


def test_sign_in_survives_the_issuers_key_rotation(
    start: Any, issuer: MockIssuer
) -> None:
    server = start()
    sub = person(issuer)
    before = me(sign_in(server, sub)[1])
    old_kid = issuer.signing_kid()
    issuer.rotate_keys()
    assert issuer.signing_kid() != old_kid
    response, http = sign_in(server, sub)
    assert response.status_code == 303, response.text
    assert me(http)["id"] == before["id"]


def test_an_issuer_naming_another_issuer_is_refused(
    start_server: Callable[..., LiveServer],
) -> None:
    async def impostor(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Discovery whose document names another issuer (OIDC Discovery §4.3)."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = json.dumps(
            {
                "issuer": "https://someone-else.example",
                "authorization_endpoint": "https://someone-else.example/authorize",
                "token_endpoint": "https://someone-else.example/token",
                "jwks_uri": "https://someone-else.example/jwks",
            }
        ).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    other = LiveServer(lambda _url: impostor).start()
    try:
        server = start_server(**oidc_settings(other.url))
        response = server.client().get("/login/provider")
    finally:
        other.stop()
    assert response.status_code == 400
    assert "names another issuer" in response.text
    assert "someone-else.example" not in response.headers.get("location", "")


def test_the_login_page_offers_the_provider(start: Any) -> None:
    page = start(oidc_display_name="Keycloak").client().get("/login?next=/x%3Fy")
    assert page.status_code == 200
    assert 'href="/login/provider?next=%2Fx%3Fy"' in page.text
    assert "Sign in with Keycloak" in page.text


def test_the_reauth_page_offers_the_provider_too(start: Any) -> None:
    """Someone who signs in there may have no password here."""
    with start(oidc_display_name="Keycloak").client() as http:
        name = random_name("user")
        body = {"username": name, "password": PASSWORD}
        assert http.post("/api/v1/auth/register", json=body).status_code == 201
        assert http.post("/api/v1/auth/login", json=body).status_code == 200
        page = http.get("/reauth?next=/settings/tokens")
    assert page.status_code == 200
    assert 'href="/login/provider?next=%2Fsettings%2Ftokens"' in page.text
    assert "Sign in again with Keycloak" in page.text
