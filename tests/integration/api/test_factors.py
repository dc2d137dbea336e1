"""Second factors through the API: enrolment under ``/api/v1/me/factors`` and
the two-step sign-in (``/api/v1/auth/login`` → ``401 mfa_required`` →
``/api/v1/auth/login/mfa``), with codes computed by pyotp as an app would."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.util import clock
from tests.support.actions import PASSWORD, Actions, Login, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.totp import code, enrol

FACTORS = "/api/v1/me/factors"
LOGIN = "/api/v1/auth/login"
MFA = "/api/v1/auth/login/mfa"


def first_step(client: httpx.Client, username: str) -> dict[str, Any]:
    response = client.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "mfa_required"
    assert "ag_session" not in response.cookies
    return dict(body)


def second_step(
    client: httpx.Client, token: str, proof: str, method: str = "totp"
) -> httpx.Response:
    return client.post(MFA, json={"mfa_token": token, "method": method, "code": proof})


@pytest.fixture
def person(actions: Actions, client: httpx.Client) -> tuple[Login, str, list[str]]:
    actions.admin()
    login = actions.user()
    secret, codes = enrol(client, login)
    return login, secret, codes


def test_a_password_alone_no_longer_signs_in(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, _, _ = person
    body = first_step(client, login.username)
    assert body["methods"] == ["totp", "recovery_code"]
    assert body["error_description"]
    assert "access_token" not in body


def test_the_second_step_answers_as_a_login_does(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, secret, _ = person
    token = first_step(client, login.username)["mfa_token"]
    response = second_step(client, token, code(secret))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "refresh_token", "csrf_token", "expires_in"} <= set(body)
    assert response.cookies["ag_session"].startswith("ag_ses_")
    me = client.get("/api/v1/me", headers=Actions.bearer(body["access_token"]))
    assert me.json()["username"] == login.username


def test_a_code_is_accepted_once(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, secret, _ = person
    now = code(secret)
    first = first_step(client, login.username)["mfa_token"]
    assert second_step(client, first, now).status_code == 200
    again = first_step(client, login.username)["mfa_token"]
    error(second_step(client, again, now), 401, "invalid_credentials")
    # An earlier code than the one used is refused too, a later one is not.
    error(second_step(client, again, code(secret, -1)), 401, "invalid_credentials")
    assert second_step(client, again, code(secret, 1)).status_code == 200


@pytest.mark.parametrize(
    ("steps", "status"), [(-1, 200), (1, 200), (-2, 401), (2, 401)]
)
def test_one_step_of_clock_skew(
    actions: Actions, client: httpx.Client, steps: int, status: int
) -> None:
    actions.admin()
    login = actions.user()
    secret, _ = enrol(client, login)
    # Three steps on, every step tried here is later than the one confirmed.
    clock.advance(3 * 30)
    token = first_step(client, login.username)["mfa_token"]
    response = second_step(client, token, code(secret, steps))
    assert response.status_code == status, response.text


def test_a_used_expired_or_altered_ticket_is_refused(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, secret, _ = person
    token = first_step(client, login.username)["mfa_token"]
    assert second_step(client, token, code(secret)).status_code == 200
    error(second_step(client, token, code(secret, 1)), 401, "invalid_mfa_token")

    altered = first_step(client, login.username)["mfa_token"]
    flipped = altered[:10] + ("A" if altered[10] != "A" else "B") + altered[11:]
    error(second_step(client, flipped, code(secret, 1)), 401, "invalid_mfa_token")
    error(
        second_step(client, "not a ticket", code(secret, 1)), 401, "invalid_mfa_token"
    )

    late = first_step(client, login.username)["mfa_token"]
    clock.advance(5 * 60)
    error(second_step(client, late, code(secret)), 401, "invalid_mfa_token")


def test_another_persons_ticket_does_not_take_my_code(
    actions: Actions,
    client: httpx.Client,
    person: tuple[Login, str, list[str]],
) -> None:
    """A ticket names its account: a code of mine finishes only my sign-in."""
    _, mine, _ = person
    other = actions.user()
    enrol(client, other)
    theirs = first_step(client, other.username)["mfa_token"]
    error(second_step(client, theirs, code(mine, 1)), 401, "invalid_credentials")


def test_wrong_codes_lock_the_account(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, secret, codes = person
    token = first_step(client, login.username)["mfa_token"]
    for _ in range(4):
        error(second_step(client, token, "000000"), 401, "invalid_credentials")
    # The password again does not reset the count...
    token = first_step(client, login.username)["mfa_token"]
    error(second_step(client, token, "000000"), 401, "invalid_credentials")
    # ... which has locked the account: neither a right code nor the password
    # gets in now.
    error(second_step(client, token, code(secret)), 401, "invalid_credentials")
    error(second_step(client, token, codes[0], "recovery_code"), 401)
    login_again = client.post(
        LOGIN, json={"username": login.username, "password": PASSWORD}
    )
    error(login_again, 401, "invalid_credentials")
    clock.advance(15 * 60 + 1)
    token = first_step(client, login.username)["mfa_token"]
    assert second_step(client, token, code(secret)).status_code == 200


def test_a_recovery_code_works_once(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, _, codes = person
    token = first_step(client, login.username)["mfa_token"]
    assert second_step(client, token, codes[0], "recovery_code").status_code == 200
    token = first_step(client, login.username)["mfa_token"]
    error(second_step(client, token, codes[0], "recovery_code"), 401)
    factors = client.get(FACTORS, headers=login.bearer).json()
    assert factors["recovery_codes_left"] == 9


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mfa_token": "x", "method": "totp"},
        {"mfa_token": "x", "method": "totp", "code": "1" * 65},
    ],
)
def test_malformed_second_steps_are_400(
    client: httpx.Client, body: dict[str, str]
) -> None:
    error(client.post(MFA, json=body), 400, "invalid_request")


def test_an_unknown_method_is_400(
    client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, _, _ = person
    token = first_step(client, login.username)["mfa_token"]
    error(second_step(client, token, "123456", "sms"), 400, "invalid_request")


def test_enrolment(actions: Actions, client: httpx.Client) -> None:
    actions.admin()
    login = actions.user()
    assert client.get(FACTORS, headers=login.bearer).json() == {
        "totp": False,
        "totp_pending": False,
        "passkeys": 0,
        "recovery_codes_left": 0,
    }
    # Recovery codes stand in for a factor: none without one.
    error(client.post(f"{FACTORS}/recovery-codes", headers=login.bearer), 409)
    error(client.delete(f"{FACTORS}/totp", headers=login.bearer), 404)
    # Confirming needs a begun enrolment and its right code.
    error(
        client.post(
            f"{FACTORS}/totp/confirm", headers=login.bearer, json={"code": "1"}
        ),
        400,
        "invalid_request",
    )
    begun = client.post(f"{FACTORS}/totp", headers=login.bearer).json()
    assert client.get(FACTORS, headers=login.bearer).json()["totp_pending"] is True
    error(
        client.post(
            f"{FACTORS}/totp/confirm", headers=login.bearer, json={"code": "000000"}
        ),
        400,
    )
    assert begun["secret"]
    # Not on yet: the password alone still signs in.
    actions.login(login.username)
    _, codes = enrol(client, login)
    assert client.get(FACTORS, headers=login.bearer).json() == {
        "totp": True,
        "totp_pending": False,
        "passkeys": 0,
        "recovery_codes_left": 10,
    }
    # With a factor, a change needs it: this token says only the password.
    stale = client.post(f"{FACTORS}/recovery-codes", headers=login.bearer)
    error(stale, 401, "insufficient_user_authentication")
    assert 'acr_values="aal2"' in stale.headers["www-authenticate"]
    # The code that confirmed the app proved it: the session's next token
    # says both factors.
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.refresh_token}
    )
    assert refreshed.status_code == 200, refreshed.text
    bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    # One app at a time: remove it before setting up another.
    error(client.post(f"{FACTORS}/totp", headers=bearer), 409, "conflict")
    new = client.post(f"{FACTORS}/recovery-codes", headers=bearer)
    assert new.status_code == 201
    assert not set(new.json()["recovery_codes"]) & set(codes)
    token = first_step(client, login.username)["mfa_token"]
    error(second_step(client, token, codes[0], "recovery_code"), 401)

    removed = client.delete(f"{FACTORS}/totp", headers=bearer)
    assert removed.status_code == 204
    assert client.get(FACTORS, headers=bearer).json()["recovery_codes_left"] == 0
    actions.login(login.username)  # one step again


def test_the_audit_log_tells_the_story(
    actions: Actions, client: httpx.Client, person: tuple[Login, str, list[str]]
) -> None:
    login, _, codes = person
    token = first_step(client, login.username)["mfa_token"]
    second_step(client, token, "000000")
    second_step(client, token, codes[0], "recovery_code").raise_for_status()
    events = client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"user": present_id(client, login)},
    ).json()["items"]
    actions_seen = [e["action"] for e in events]
    for action in (
        "factor.enrolled",
        "mfa.failed",
        "recovery_code.used",
        "login.succeeded",
    ):
        assert action in actions_seen


def test_only_the_person_with_a_sign_in_credential(
    actions: Actions, client: httpx.Client
) -> None:
    actions.admin()
    login = actions.user()
    pat = actions.make_pat(login, name="ci", scopes=["read", "write"])
    error(client.get(FACTORS, headers=Actions.bearer(pat["token"])), 403)
    error(client.post(f"{FACTORS}/totp", headers=Actions.bearer(pat["token"])), 403)
    client.cookies.clear()  # the sign-in's session cookie
    error(client.get(FACTORS), 401)


def present_id(client: httpx.Client, login: Login) -> str:
    return str(client.get("/api/v1/me", headers=login.bearer).json()["id"])


def test_an_account_without_a_factor_signs_in_in_one_step(actions: Actions) -> None:
    actions.admin()
    name = random_name()
    actions.register(name, invite_code=actions.invite())
    assert actions.login(name).access_token


def test_the_second_step_shares_the_logins_rate_limit(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(login_rate_limit_per_minute=4)
    with server.client() as http:
        actions = Actions(http)
        actions.admin()  # one login
        login = actions.user()  # two
        enrol(http, login)
        token = first_step(http, login.username)["mfa_token"]  # three
        error(second_step(http, token, "000000"), 401)  # four
        limited = error(second_step(http, token, "000000"), 429, "rate_limited")
        assert limited["error_description"]
