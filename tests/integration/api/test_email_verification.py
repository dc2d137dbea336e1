"""Verified addresses over the API: the link a registration queues, following
it (``POST /api/v1/auth/verify-email``), asking for it again (``POST
/api/v1/me/email/verification``), what ``/api/v1/me`` says, and accounts an
administrator creates verified."""

from collections.abc import Callable
from datetime import timedelta

import httpx

from authgate.util import clock, tokens
from tests.support import mailbox
from tests.support.actions import Actions, Login, random_email, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import audit_events

VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/me/email/verification"


def me(http: httpx.Client, login: Login) -> dict[str, object]:
    response = http.get("/api/v1/me", headers=login.bearer)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_registering_queues_a_link_that_verifies_the_address_once(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    email = random_email()
    ada = actions.user(email=email)
    assert (me(client, ada)["email_verified"], me(client, ada)["new_email"]) == (
        False,
        None,
    )
    message = mailbox.last(server, email, "verify_email")
    assert message.values["link"].startswith(f"{server.url}/verify-email?token=ag_evt_")
    token = mailbox.link_token(message)
    verified = client.post(VERIFY, json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": email, "email_verified": True}
    assert me(client, ada)["email_verified"] is True
    settings = server.app.state.services.settings
    [event] = [
        e
        for e in audit_events(settings.sqlalchemy_url)
        if e["action"] == "email.verified"
    ]
    assert event["details"] == {"email": email}
    again = error(client.post(VERIFY, json={"token": token}), 400, "invalid_request")
    assert "does not work any more" in again["error_description"]


def test_forged_malformed_and_expired_links_are_refused_alike(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    email = random_email()
    ada = actions.user(email=email)
    token = mailbox.link_token(mailbox.last(server, email, "verify_email"))
    forged = tokens.mint("ag", "evt")  # well formed, never issued
    answers = [
        error(client.post(VERIFY, json={"token": value}), 400, "invalid_request")
        for value in (forged, "ag_evt_nonsense", token[:-1] + "x")
    ]
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    answers.append(error(client.post(VERIFY, json={"token": token}), 400))
    assert len({a["error_description"] for a in answers}) == 1
    for answer in answers:
        assert token not in str(answer)
    assert me(client, actions.login(ada.username))["email_verified"] is False
    error(client.post(VERIFY, json={}), 400, "invalid_request")


def test_resending_mails_a_new_link_and_voids_the_old(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    email = random_email()
    ada = actions.user(email=email)
    first = mailbox.link_token(mailbox.last(server, email, "verify_email"))
    sent = client.post(RESEND, headers=ada.bearer)
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"email": email}
    second = mailbox.link_token(mailbox.last(server, email, "verify_email"))
    assert second != first
    error(client.post(VERIFY, json={"token": first}), 400)
    assert client.post(VERIFY, json={"token": second}).status_code == 200
    done = error(client.post(RESEND, headers=ada.bearer), 400)
    assert "verified already" in done["error_description"]
    nobody = actions.user()
    error(client.post(RESEND, headers=nobody.bearer), 400)
    error(httpx.post(f"{server.url}{RESEND}"), 401)


def test_resending_is_limited_per_account(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(rate_limit_enabled=True)
    with server.client() as http:
        actions = Actions(http)
        ada = actions.user(email=random_email())
        answers = [http.post(RESEND, headers=ada.bearer) for _ in range(4)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert int(answers[-1].headers["Retry-After"]) > 0
        # Another account is not held back by this one's requests.
        bob = actions.user(email=random_email())
        assert http.post(RESEND, headers=bob.bearer).status_code == 202


def test_an_administrator_may_create_an_account_verified(
    server: LiveServer, client: httpx.Client, actions: Actions
) -> None:
    admin = actions.admin()

    def create(email: str | None, **body: object) -> httpx.Response:
        values = {"username": random_name(), "password": "a password for tests"}
        return client.post(
            "/api/v1/admin/users",
            headers=admin.bearer,
            json={**values, "email": email, **body},
        )

    vouched_for = random_email()
    created = create(vouched_for, email_verified=True)
    assert created.status_code == 201, created.text
    assert created.json()["email_verified"] is True
    assert mailbox.messages(server, vouched_for) == []
    unvouched = random_email()
    created = create(unvouched)
    assert created.json()["email_verified"] is False
    assert mailbox.last(server, unvouched, "verify_email").to == unvouched
    error(create(None, email_verified=True), 400, "invalid_request")
    error(create(random_email(), email_verified="yes"), 400, "invalid_request")
