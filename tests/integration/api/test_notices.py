"""Notices from a live server: each kind queued by the change that it tells of,
to the account's verified address only, none with the kind turned off."""

import asyncio
from collections.abc import Callable

import httpx

from authgate.server import housekeeping
from tests.integration.api.test_passkeys import add_passkey, both_factors
from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions, Login, random_email
from tests.support.live import LiveServer
from tests.support.totp import enrol
from tests.support.webauthn import SoftAuthenticator

LOGIN = "/api/v1/auth/login"
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}


def verified(server: LiveServer, client: httpx.Client, actions: Actions) -> Login:
    email = random_email()
    login = actions.user(email=email)
    mailbox.verify(server, client, email)
    return login


def told(server: LiveServer, login: Login) -> list[str]:
    """The messages mailed to the account's address (notices and links),
    oldest first."""
    [address] = {
        m.to
        for m in mailbox.messages(server)
        if m.values.get("username") == login.username
    }
    return [m.template for m in mailbox.messages(server, address)]


def user_id(client: httpx.Client, login: Login) -> str:
    return str(client.get("/api/v1/me", headers=login.bearer).json()["id"])


def test_a_sign_in_from_a_new_device_is_told_once(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    ada = verified(server, client, actions)
    body = {"username": ada.username, "password": PASSWORD}
    assert client.post(LOGIN, json=body).status_code == 200
    assert told(server, ada) == ["verify_email"]
    for _ in range(2):
        assert client.post(LOGIN, json=body, headers=PHONE).status_code == 200
    assert told(server, ada) == ["verify_email", "new_sign_in"]
    notice = mailbox.last(server, mailbox.messages(server)[-1].to, "new_sign_in")
    assert (notice.values["device"], notice.values["ip"]) == (
        "Browser/iOS",
        "127.0.0.1",
    )


def test_an_unverified_address_is_told_nothing(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    email = random_email()
    bob = actions.user(email=email)
    body = {"username": bob.username, "password": PASSWORD}
    assert client.post(LOGIN, json=body, headers=PHONE).status_code == 200
    assert [m.template for m in mailbox.messages(server, email)] == ["verify_email"]


def test_second_factors_and_recovery_codes_are_told_of(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    ada = verified(server, client, actions)
    _secret, codes = enrol(client, ada)
    first = client.post(LOGIN, json={"username": ada.username, "password": PASSWORD})
    proof = {"mfa_token": first.json()["mfa_token"], "method": "recovery_code"}
    answer = client.post("/api/v1/auth/login/mfa", json=proof | {"code": codes[0]})
    assert answer.status_code == 200, answer.text
    # That session proved a second factor: it may change them.
    bearer = actions.bearer(answer.json()["access_token"])
    made = client.post("/api/v1/me/factors/recovery-codes", headers=bearer)
    assert made.status_code == 201, made.text
    removed = client.delete("/api/v1/me/factors/totp", headers=bearer)
    assert removed.status_code == 204, removed.text
    reset = client.post(
        f"/api/v1/admin/users/{user_id(client, ada)}/reset-factors",
        headers=actions.admin().bearer,
    )
    assert reset.status_code == 204, reset.text
    assert told(server, ada) == [
        "verify_email",
        "factor_added",
        "recovery_used",
        "factor_added",
        "factor_removed",
        "factor_removed",
    ]
    whats = [
        m.values["what"]
        for m in mailbox.messages(server)
        if m.template.startswith("factor_") and m.values["username"] == ada.username
    ]
    assert whats == ["totp", "recovery_code", "totp", "all"]


def test_password_changes_and_recovery_keys_are_told_of(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    ada = verified(server, client, actions)
    reset = client.post(
        f"/api/v1/admin/users/{user_id(client, ada)}/reset-password",
        headers=actions.admin().bearer,
        json={"new_password": "an admin's new passphrase"},
    )
    assert reset.status_code == 204, reset.text
    again = actions.login(ada.username, "an admin's new passphrase")
    made = client.post(
        "/api/v1/recovery-key",
        headers=again.bearer,
        json={"password": "an admin's new passphrase"},
    )
    assert made.status_code == 201, made.text
    recovered = client.post(
        "/api/v1/auth/recover",
        json={
            "username": ada.username,
            "recovery_key": made.json()["recovery_key"],
            "new_password": "my very own passphrase",
        },
    )
    assert recovered.status_code == 204, recovered.text
    # The key's use, and the password it set (as a reset by link tells too).
    assert told(server, ada) == [
        "verify_email",
        "password_changed",
        "password_changed",
        "recovery_used",
    ]


def test_a_token_expiring_soon_is_told_of_once(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    ada = verified(server, client, actions)
    actions.make_pat(ada, name="deploy", expires_in_days=3)
    actions.make_pat(ada, name="later", expires_in_days=30)
    services = server.app.state.services
    for _ in range(2):
        # As the housekeeping timer does, on the server's own loop.
        done = asyncio.run_coroutine_threadsafe(
            housekeeping.remind(services.db, services.notices), server.loop
        )
        done.result()
    assert told(server, ada) == ["verify_email", "token_expiring"]
    notice = mailbox.messages(server)[-1]
    assert notice.values["token_name"] == "deploy"


def test_kinds_turned_off_send_nothing(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(mail_notices=[])
    with httpx.Client(base_url=server.url) as client:
        actions = Actions(client)
        ada = verified(server, client, actions)
        body = {"username": ada.username, "password": PASSWORD}
        for headers in ({}, PHONE):
            assert client.post(LOGIN, json=body, headers=headers).status_code == 200
        reset = client.post(
            f"/api/v1/admin/users/{user_id(client, ada)}/reset-password",
            headers=actions.admin().bearer,
            json={"new_password": "an admin's new passphrase"},
        )
        assert reset.status_code == 204, reset.text
        assert told(server, ada) == ["verify_email"]


def test_a_passkey_added_or_removed_is_told_of(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(url_host="localhost")  # an IP cannot be an RP id
    with server.client() as client:
        actions = Actions(client)
        ada = verified(server, client, actions)
        device = SoftAuthenticator()
        added = add_passkey(actions, ada, device, server.url)
        ada = both_factors(actions, ada, device, server.url)  # removing steps up
        path = f"/api/v1/me/passkeys/{added['id']}"
        removed = client.delete(path, headers=ada.bearer)
        assert removed.status_code == 204, removed.text
        assert told(server, ada) == ["verify_email", "factor_added", "factor_removed"]
