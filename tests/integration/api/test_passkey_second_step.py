"""A passkey as the second step of a password sign-in, through the API
(``/api/v1/auth/login`` → ``401 mfa_required`` with ``webauthn`` options →
``/api/v1/auth/login/mfa`` with the browser's ``assertion``), with a software
authenticator doing the ceremonies; and the recovery codes a first passkey
brings and the last one takes away."""

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from authgate.util import clock
from tests.integration.api.test_passkeys import add_passkey, audit, both_factors
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.totp import at_step_start, code
from tests.support.webauthn import SoftAuthenticator

LOGIN = "/api/v1/auth/login"
MFA = "/api/v1/auth/login/mfa"
FACTORS = "/api/v1/me/factors"


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """Reached as ``localhost``: an IP address cannot be a WebAuthn RP id."""
    return start_server(url_host="localhost")


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def first_step(client: httpx.Client, username: str) -> dict[str, Any]:
    response = client.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert response.status_code == 401, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == "mfa_required"
    return body


def with_passkey(
    client: httpx.Client, step: dict[str, Any], assertion: dict[str, Any]
) -> httpx.Response:
    return client.post(
        MFA,
        json={
            "mfa_token": step["mfa_token"],
            "method": "webauthn",
            "assertion": assertion,
        },
    )


def session_amr(server: LiveServer, access_token: str) -> tuple[str, ...]:
    """The amr of the session an access token is bound to (its ``sid``), as
    the server stored it."""
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    services = server.app.state.services

    async def read() -> tuple[str, ...]:
        async with services.db.read() as tx:
            session = await tx.sessions.get(claims["sid"])
        assert session is not None
        amr: tuple[str, ...] = session.amr
        return amr

    return asyncio.run_coroutine_threadsafe(read(), server.loop).result(timeout=30)


@pytest.fixture
def alice(actions: Actions, server: LiveServer) -> tuple[Login, SoftAuthenticator]:
    """A person whose only second factor is a passkey."""
    actions.admin()
    login = actions.user()
    device = SoftAuthenticator()
    add_passkey(actions, login, device, server.url)
    return login, device


def test_a_password_then_a_passkey_signs_in(
    client: httpx.Client, server: LiveServer, alice: tuple[Login, SoftAuthenticator]
) -> None:
    login, device = alice
    step = first_step(client, login.username)
    # Passkey only: the passkey, and the recovery codes that came with it.
    assert step["methods"] == ["webauthn", "recovery_code"]
    options = step["webauthn"]
    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]] == [device.id]

    response = with_passkey(client, step, device.get(options, origin=server.url))
    assert response.status_code == 200, response.text
    assert set(response.json()) >= {"access_token", "refresh_token", "csrf_token"}
    assert "ag_session" in response.cookies
    assert session_amr(server, response.json()["access_token"]) == (
        "hwk",
        "mfa",
        "pin",
        "pwd",
        "user",
    )


def test_a_passkey_without_user_verification_still_makes_two_factors(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    """Presence alone is enough for a second factor: the password is the
    something known."""
    actions.admin()
    login = actions.user()
    device = SoftAuthenticator(user_verified=False, synced=True)
    add_passkey(actions, login, device, server.url)
    step = first_step(client, login.username)
    response = with_passkey(
        client, step, device.get(step["webauthn"], origin=server.url)
    )
    assert response.status_code == 200, response.text
    assert session_amr(server, response.json()["access_token"]) == (
        "mfa",
        "pwd",
        "swk",
        "user",
    )


def test_a_ticket_and_its_assertion_work_once(
    client: httpx.Client, server: LiveServer, alice: tuple[Login, SoftAuthenticator]
) -> None:
    login, device = alice
    step = first_step(client, login.username)
    assertion = device.get(step["webauthn"], origin=server.url)
    assert with_passkey(client, step, assertion).status_code == 200
    # The same answer again is refused (its signature counter is stale)...
    error(with_passkey(client, step, assertion), 401)
    # ... and a new answer to the spent ticket's challenge too.
    fresh = device.get(step["webauthn"], origin=server.url)
    error(with_passkey(client, step, fresh), 401, "invalid_mfa_token")
    # With a new sign-in's ticket, the old answer signs the wrong challenge.
    again = first_step(client, login.username)
    assert again["webauthn"]["challenge"] != step["webauthn"]["challenge"]
    refused = with_passkey(client, again, assertion)
    error(refused, 401, "invalid_credentials")
    assert "passkey was not accepted" in refused.json()["error_description"]


def test_another_persons_passkey_is_refused(
    actions: Actions,
    client: httpx.Client,
    server: LiveServer,
    alice: tuple[Login, SoftAuthenticator],
) -> None:
    login, _ = alice
    bob = actions.user()
    bobs = SoftAuthenticator()
    add_passkey(actions, bob, bobs, server.url)
    step = first_step(client, login.username)
    # Bob's own authenticator, answering Alice's challenge.
    answer = bobs.get(step["webauthn"], origin=server.url)
    error(with_passkey(client, step, answer), 401, "invalid_credentials")
    assert audit(actions, "mfa.failed")[0]["details"]["method"] == "webauthn"


def test_wrong_assertions_lock_the_account(
    actions: Actions,
    client: httpx.Client,
    server: LiveServer,
    alice: tuple[Login, SoftAuthenticator],
) -> None:
    login, device = alice
    step = first_step(client, login.username)
    for origin in ("http://evil.example", "http://localhost:1"):
        wrong = device.get(step["webauthn"], origin=origin)
        error(with_passkey(client, step, wrong), 401, "invalid_credentials")
    malformed = {"id": "x", "response": {}}
    for _ in range(3):
        error(with_passkey(client, step, malformed), 401, "invalid_credentials")
    # Five failures have locked the account: the right passkey is refused too.
    right = device.get(step["webauthn"], origin=server.url)
    error(with_passkey(client, step, right), 401, "invalid_credentials")
    failed = audit(actions, "mfa.failed")
    assert len(failed) == 6
    assert failed[0]["details"] == {"method": "webauthn", "reason": "locked"}
    assert audit(actions, "account.locked")
    clock.advance(15 * 60 + 1)
    step = first_step(client, login.username)
    right = device.get(step["webauthn"], origin=server.url)
    assert with_passkey(client, step, right).status_code == 200


@pytest.mark.parametrize(
    "proof",
    [
        {},
        {"code": "123456", "assertion": {"id": "x"}},
        {"code": "123456"},  # a code for the passkey method
    ],
)
def test_a_second_step_takes_exactly_the_proof_its_method_needs(
    client: httpx.Client,
    server: LiveServer,
    alice: tuple[Login, SoftAuthenticator],
    proof: dict[str, Any],
) -> None:
    login, device = alice
    step = first_step(client, login.username)
    body = {"mfa_token": step["mfa_token"], "method": "webauthn", **proof}
    error(client.post(MFA, json=body), 400, "invalid_request")
    # Nothing was spent: the ticket still finishes with the passkey.
    right = device.get(step["webauthn"], origin=server.url)
    assert with_passkey(client, step, right).status_code == 200


def test_an_assertion_for_a_code_method_is_400(
    client: httpx.Client, alice: tuple[Login, SoftAuthenticator]
) -> None:
    login, _ = alice
    step = first_step(client, login.username)
    body = {
        "mfa_token": step["mfa_token"],
        "method": "recovery_code",
        "assertion": {"id": "x"},
    }
    error(client.post(MFA, json=body), 400, "invalid_request")


def test_the_first_passkey_brings_recovery_codes_once(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    actions.admin()
    login = actions.user()
    device = SoftAuthenticator()
    first = add_passkey(actions, login, device, server.url)
    assert len(first["recovery_codes"]) == 10
    assert len(set(first["recovery_codes"])) == 10
    login = both_factors(actions, login, device, server.url)
    second = add_passkey(actions, login, SoftAuthenticator(), server.url)
    assert second["recovery_codes"] is None
    factors = client.get(FACTORS, headers=login.bearer).json()
    assert factors["passkeys"] == 2
    assert factors["recovery_codes_left"] == 10
    # A code stands in for the passkey.
    step = first_step(client, login.username)
    response = client.post(
        MFA,
        json={
            "mfa_token": step["mfa_token"],
            "method": "recovery_code",
            "code": first["recovery_codes"][0],
        },
    )
    assert response.status_code == 200, response.text
    assert session_amr(server, response.json()["access_token"]) == (
        "mfa",
        "otp",
        "pwd",
    )


def test_an_app_then_a_passkey_keeps_the_codes_given(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    actions.admin()
    login = actions.user()
    at_step_start()
    begun = client.post(f"{FACTORS}/totp", headers=login.bearer).json()
    confirmed = client.post(
        f"{FACTORS}/totp/confirm",
        headers=login.bearer,
        json={"code": code(begun["secret"], -1)},
    )
    assert len(confirmed.json()["recovery_codes"]) == 10
    step = first_step(client, login.username)
    signed = client.post(
        MFA,
        json={
            "mfa_token": step["mfa_token"],
            "method": "totp",
            "code": code(begun["secret"]),
        },
    )
    assert signed.status_code == 200, signed.text
    login = Login(
        login.username,
        signed.json()["access_token"],
        signed.json()["refresh_token"],
        signed.json(),
    )
    added = add_passkey(actions, login, SoftAuthenticator(), server.url)
    assert added["recovery_codes"] is None
    step = first_step(client, login.username)
    assert step["methods"] == ["totp", "webauthn", "recovery_code"]


def test_removing_the_last_factor_withdraws_the_codes(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    actions.admin()
    login = actions.user()
    device = SoftAuthenticator()
    one = add_passkey(actions, login, device, server.url)
    login = both_factors(actions, login, device, server.url)
    two = add_passkey(actions, login, SoftAuthenticator(), server.url)
    removed = client.delete(f"/api/v1/me/passkeys/{one['id']}", headers=login.bearer)
    assert removed.status_code == 204
    assert client.get(FACTORS, headers=login.bearer).json()["recovery_codes_left"] == 10
    removed = client.delete(f"/api/v1/me/passkeys/{two['id']}", headers=login.bearer)
    assert removed.status_code == 204
    factors = client.get(FACTORS, headers=login.bearer).json()
    assert (factors["passkeys"], factors["recovery_codes_left"]) == (0, 0)
    # One step again, and a first passkey brings new codes.
    actions.login(login.username)
    again = add_passkey(actions, login, SoftAuthenticator(), server.url)
    assert len(again["recovery_codes"]) == 10


def test_with_an_ip_address_no_passkey_is_offered(
    client: httpx.Client,
    alice: tuple[Login, SoftAuthenticator],
    start_server: Callable[..., LiveServer],
) -> None:
    """Reached by an IP address, the server is no relying party: a
    passkey-only account is left its recovery codes, and an assertion sent
    all the same proves nothing."""
    login, device = alice
    by_ip = start_server()  # the same database, at http://127.0.0.1:…
    with by_ip.client() as http:
        step = first_step(http, login.username)
        assert step["methods"] == ["recovery_code"]
        assert step["webauthn"] is None
        answer = device.get(
            {"challenge": "AAAA", "rpId": "localhost"}, origin=by_ip.url
        )
        error(with_passkey(http, step, answer), 401, "invalid_credentials")


def test_a_passkey_meets_an_orgs_rule_and_removing_it_does_not(
    actions: Actions, client: httpx.Client, server: LiveServer
) -> None:
    """An org that requires a second factor takes a passkey for one, at once,
    and refuses the person again as soon as it is gone (``require_mfa``)."""
    owner = actions.user()
    org = actions.make_org(owner, "Strict")
    add_passkey(actions, owner, SoftAuthenticator(), server.url)
    member = actions.org_member(owner, org["slug"], "member")
    client.patch(
        f"/api/v1/orgs/{org['id']}", headers=owner.bearer, json={"require_mfa": True}
    ).raise_for_status()
    asked = {**member.bearer, "X-Organization-Id": org["slug"]}
    error(client.get("/api/v1/me", headers=asked), 403, "mfa_enrollment_required")
    device = SoftAuthenticator()
    added = add_passkey(actions, member, device, server.url)
    assert client.get("/api/v1/me", headers=asked).json()["org_id"] == org["id"]
    member = both_factors(actions, member, device, server.url)
    asked = {**member.bearer, "X-Organization-Id": org["slug"]}
    removed = client.delete(f"/api/v1/me/passkeys/{added['id']}", headers=member.bearer)
    assert removed.status_code == 204
    error(client.get("/api/v1/me", headers=asked), 403, "mfa_enrollment_required")
