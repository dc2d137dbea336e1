"""Passkeys through the API, with a software authenticator doing real
ceremonies: ``/api/v1/me/passkeys`` (a person's own) and
``/api/v1/auth/passkey`` (signing in with no password)."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.webauthn import SoftAuthenticator

REFUSED = "That passkey was not accepted. Try again, or sign in another way."


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """Reached as ``localhost``: an IP address cannot be a WebAuthn RP id."""
    return start_server(url_host="localhost")


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def add_passkey(
    actions: Actions,
    login: Login,
    device: SoftAuthenticator,
    origin: str,
    **extra: Any,
) -> Any:
    http = actions.client
    started = http.post("/api/v1/me/passkeys/options", headers=login.bearer)
    assert started.status_code == 200, started.text
    body = started.json()
    response = http.post(
        "/api/v1/me/passkeys",
        headers=login.bearer,
        json={
            "ticket": body["ticket"],
            "credential": device.create(body["options"], origin=origin),
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def both_factors(
    actions: Actions, login: Login, device: SoftAuthenticator, origin: str
) -> Login:
    """``login``'s person signed in again with their password, then
    ``device``'s passkey as the second step: once a person has a factor, a
    step-up (adding or removing one) asks for a sign-in with it."""
    http = actions.client
    first = http.post(
        "/api/v1/auth/login", json={"username": login.username, "password": PASSWORD}
    )
    assert first.status_code == 401, first.text
    step = first.json()
    response = http.post(
        "/api/v1/auth/login/mfa",
        json={
            "mfa_token": step["mfa_token"],
            "method": "webauthn",
            "assertion": device.get(step["webauthn"], origin=origin),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Login(
        login.username,
        body["access_token"],
        body["refresh_token"],
        body,
        response.cookies,
    )


def sign_in(
    http: httpx.Client,
    device: SoftAuthenticator,
    origin: str,
    *,
    rp_id: str | None = None,
) -> httpx.Response:
    started = http.post("/api/v1/auth/passkey/options")
    assert started.status_code == 200, started.text
    body = started.json()
    return http.post(
        "/api/v1/auth/passkey",
        json={
            "ticket": body["ticket"],
            "credential": device.get(body["options"], origin=origin, rp_id=rp_id),
        },
    )


def audit(actions: Actions, action: str) -> list[dict[str, Any]]:
    response = actions.client.get(
        "/api/v1/admin/audit", params={"action": action}, headers=actions.admin().bearer
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_passkey_signs_in_with_no_password(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    device = SoftAuthenticator()
    added = add_passkey(actions, alice, device, server.url, name="Laptop")
    assert added["name"] == "Laptop"
    assert added["synced"] is False
    assert added["last_used_at"] is None

    with server.client() as fresh:
        response = sign_in(fresh, device, server.url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "csrf_token",
        }
        assert fresh.cookies  # the session cookies, as /auth/login sends them
        me = fresh.get("/api/v1/me", headers=actions.bearer(body["access_token"]))
        assert me.json()["username"] == alice.username

    listed = actions.client.get("/api/v1/me/passkeys", headers=alice.bearer).json()
    assert [p["id"] for p in listed["items"]] == [added["id"]]
    assert listed["items"][0]["last_used_at"] is not None
    [signed_in] = audit(actions, "login.succeeded")[:1]
    assert signed_in["details"] == {"method": "passkey"}


def test_a_passkey_is_named_after_the_browser_by_default(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    actions.client.headers["User-Agent"] = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Chrome/130.0 Safari/537.36"
    )
    added = add_passkey(actions, alice, SoftAuthenticator(), server.url)
    assert added["name"] == "Chrome/macOS"


def test_several_passkeys_renamed_and_removed_by_their_owner_only(
    actions: Actions, server: LiveServer
) -> None:
    alice, bob = actions.user(), actions.user()
    one = SoftAuthenticator()
    first = add_passkey(actions, alice, one, server.url, name="One")
    alice = both_factors(actions, alice, one, server.url)
    second = add_passkey(actions, alice, SoftAuthenticator(), server.url, name="Two")
    http = actions.client
    path = f"/api/v1/me/passkeys/{first['id']}"
    error(http.patch(path, headers=bob.bearer, json={"name": "Mine"}), 404, "not_found")
    error(http.delete(path, headers=bob.bearer), 404, "not_found")
    error(http.patch(path, headers=alice.bearer, json={"name": " "}), 400)

    renamed = http.patch(path, headers=alice.bearer, json={"name": "Work laptop"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Work laptop"
    assert http.delete(path, headers=alice.bearer).status_code == 204
    listed = http.get("/api/v1/me/passkeys", headers=alice.bearer).json()["items"]
    assert [p["id"] for p in listed] == [second["id"]]
    assert http.get("/api/v1/me/passkeys", headers=bob.bearer).json()["items"] == []
    assert [e["action"] for e in audit(actions, "passkey.removed")] == [
        "passkey.removed"
    ]


def test_a_removed_passkey_no_longer_signs_in(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    device = SoftAuthenticator()
    added = add_passkey(actions, alice, device, server.url)
    alice = both_factors(actions, alice, device, server.url)
    removed = actions.client.delete(
        f"/api/v1/me/passkeys/{added['id']}", headers=alice.bearer
    )
    assert removed.status_code == 204, removed.text
    error(sign_in(actions.client, device, server.url), 401, "invalid_credentials")


def test_only_the_person_signed_in_manages_passkeys(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    pat = actions.bearer(actions.make_pat(alice)["token"])
    with server.client() as http:  # no session cookie
        error(http.get("/api/v1/me/passkeys", headers=pat), 403, "forbidden")
        error(http.post("/api/v1/me/passkeys/options", headers=pat), 403, "forbidden")
        error(http.get("/api/v1/me/passkeys"), 401)


def test_a_registration_ticket_is_the_persons_own_and_works_once(
    actions: Actions, server: LiveServer
) -> None:
    alice, bob = actions.user(), actions.user()
    http = actions.client
    started = http.post("/api/v1/me/passkeys/options", headers=alice.bearer).json()
    device = SoftAuthenticator()
    answer = {
        "ticket": started["ticket"],
        "credential": device.create(started["options"], origin=server.url),
    }
    error(http.post("/api/v1/me/passkeys", headers=bob.bearer, json=answer), 400)
    assert http.get("/api/v1/me/passkeys", headers=bob.bearer).json()["items"] == []
    added = http.post("/api/v1/me/passkeys", headers=alice.bearer, json=answer)
    assert added.status_code == 201, added.text
    alice = both_factors(actions, alice, device, server.url)
    error(http.post("/api/v1/me/passkeys", headers=alice.bearer, json=answer), 400)


def test_registration_for_another_origin_is_refused(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    http = actions.client
    started = http.post("/api/v1/me/passkeys/options", headers=alice.bearer).json()
    answer = {
        "ticket": started["ticket"],
        "credential": SoftAuthenticator().create(
            started["options"], origin="https://evil.example"
        ),
    }
    body = error(
        http.post("/api/v1/me/passkeys", headers=alice.bearer, json=answer), 400
    )
    assert "could not be added" in body["error_description"]


@pytest.mark.parametrize(
    ("origin", "rp_id"), [("https://evil.example", None), (None, "evil.example")]
)
def test_an_assertion_for_another_origin_or_rp_is_refused(
    actions: Actions, server: LiveServer, origin: str | None, rp_id: str | None
) -> None:
    alice = actions.user()
    device = SoftAuthenticator()
    add_passkey(actions, alice, device, server.url)
    response = sign_in(actions.client, device, origin or server.url, rp_id=rp_id)
    assert error(response, 401, "invalid_credentials")["error_description"] == REFUSED
    assert audit(actions, "passkey.failed")[0]["details"] == {"reason": "signature"}


def test_a_replayed_assertion_is_refused(actions: Actions, server: LiveServer) -> None:
    alice = actions.user()
    device = SoftAuthenticator(counting=False)
    add_passkey(actions, alice, device, server.url)
    http = actions.client
    started = http.post("/api/v1/auth/passkey/options").json()
    answer = {
        "ticket": started["ticket"],
        "credential": device.get(started["options"], origin=server.url),
    }
    assert http.post("/api/v1/auth/passkey", json=answer).status_code == 200
    error(http.post("/api/v1/auth/passkey", json=answer), 401, "invalid_credentials")


def test_a_cloned_authenticator_is_refused_and_audited(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    device = SoftAuthenticator()
    add_passkey(actions, alice, device, server.url)
    assert sign_in(actions.client, device, server.url).status_code == 200
    assert sign_in(actions.client, device, server.url).status_code == 200
    device.sign_count = 0
    error(sign_in(actions.client, device, server.url), 401, "invalid_credentials")
    [suspected] = audit(actions, "passkey.clone_suspected")
    assert suspected["details"] == {"stored": 2, "presented": 1}


def test_a_disabled_account_is_refused_as_an_unknown_passkey_is(
    actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    device = SoftAuthenticator()
    add_passkey(actions, alice, device, server.url)
    http = actions.client
    user_id = http.get("/api/v1/me", headers=alice.bearer).json()["id"]
    disabled = http.patch(
        f"/api/v1/admin/users/{user_id}",
        headers=actions.admin().bearer,
        json={"active": False},
    )
    assert disabled.status_code == 200, disabled.text
    refused = error(sign_in(http, device, server.url), 401, "invalid_credentials")
    unknown = error(sign_in(http, SoftAuthenticator(), server.url), 401)
    assert refused == unknown


@pytest.mark.parametrize(
    "answer",
    [
        {"ticket": "forged", "credential": {}},
        {"ticket": "x" * 2049, "credential": {}},
        {"ticket": "forged"},
    ],
)
def test_bad_answers_are_refused_cleanly(
    actions: Actions, server: LiveServer, answer: dict[str, Any]
) -> None:
    response = actions.client.post("/api/v1/auth/passkey", json=answer)
    assert response.status_code in (400, 401, 422), response.text
    error(response, response.status_code)


def test_sign_in_is_rate_limited_with_the_login(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(url_host="localhost", login_rate_limit_per_minute=2)
    with server.client() as http:
        for _ in range(2):
            assert http.post("/api/v1/auth/passkey/options").status_code == 200
        error(http.post("/api/v1/auth/passkey/options"), 429, "rate_limited")


def test_no_passkeys_on_a_server_reached_by_an_ip_address(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    with server.client() as http:
        actions = Actions(http)
        alice = actions.user()
        for response in (
            http.post("/api/v1/auth/passkey/options"),
            http.post("/api/v1/me/passkeys/options", headers=alice.bearer),
        ):
            body = error(response, 400, "invalid_request")
            assert "IP address" in body["error_description"]
