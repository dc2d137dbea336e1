"""``AUTHGATE_REQUIRE_MFA``: an account without a second factor sets up an
authenticator app at its next sign-in (``401 mfa_enrollment_required`` with
the app, then ``/api/v1/auth/login/mfa`` with its first code), and can sign
in no other way; an account with one signs in as it always did."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest

from authgate.util import clock
from tests.support.actions import PASSWORD, Actions
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.totp import at_step_start, code, enrol

LOGIN = "/api/v1/auth/login"
MFA = "/api/v1/auth/login/mfa"


@pytest.fixture
def http(start_server: Callable[..., LiveServer]) -> Iterator[httpx.Client]:
    with start_server(require_mfa=True, allow_registration=True).client() as client:
        yield client


def first_step(http: httpx.Client, username: str) -> dict[str, Any]:
    response = http.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert response.status_code == 401, response.text
    assert "ag_session" not in response.cookies
    return dict(response.json())


def finish(http: httpx.Client, token: str, proof: str, **extra: Any) -> httpx.Response:
    body = {"mfa_token": token, "method": "totp", "code": proof, **extra}
    return http.post(MFA, json=body)


def enrolment(http: httpx.Client, username: str) -> tuple[str, str]:
    """The first step's ticket and the secret of the app it offers."""
    body = first_step(http, username)
    assert body["error"] == "mfa_enrollment_required", body
    assert body["methods"] == ["totp"]
    assert body["totp"]["otpauth_uri"].startswith("otpauth://totp/")
    assert body["totp"]["secret"] in body["totp"]["otpauth_uri"]
    return body["mfa_token"], body["totp"]["secret"]


def person(http: httpx.Client) -> str:
    """A new account, without a factor (registering signs no one in)."""
    response = Actions(http).register()
    assert response.status_code == 201, response.text
    return str(response.json()["username"])


def test_a_password_alone_no_longer_signs_in(http: httpx.Client) -> None:
    name = person(http)
    token, secret = enrolment(http, name)
    body = first_step(http, name)
    # A new app each time: nothing was stored by the first attempt.
    assert body["totp"]["secret"] != secret
    assert body["error_description"]
    assert "access_token" not in body
    # The ticket is no way in without the app's code.
    error(http.get("/api/v1/me", headers=Actions.bearer(token)), 401)


def test_the_first_code_sets_the_app_up_and_signs_in(http: httpx.Client) -> None:
    name = person(http)
    at_step_start()
    token, secret = enrolment(http, name)
    response = finish(http, token, code(secret))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["recovery_codes"]) == 10
    assert response.cookies["ag_session"].startswith("ag_ses_")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["acr"] == "aal2"
    bearer = Actions.bearer(body["access_token"])
    factors = http.get("/api/v1/me/factors", headers=bearer).json()
    assert factors["totp"] is True
    assert factors["recovery_codes_left"] == 10
    # The next sign-in asks for a code of that app: an ordinary second step.
    again = first_step(http, name)
    assert again["error"] == "mfa_required"
    assert again["methods"] == ["totp", "recovery_code"]
    # The code that set it up is spent; the next one signs in.
    error(finish(http, again["mfa_token"], code(secret)), 401, "invalid_credentials")
    assert finish(http, again["mfa_token"], code(secret, 1)).status_code == 200
    # A recovery code from the enrolment stands in for the app.
    third = first_step(http, name)["mfa_token"]
    used = finish(http, third, body["recovery_codes"][0], method="recovery_code")
    assert used.status_code == 200, used.text


def test_a_wrong_code_keeps_the_ticket_and_locks_nothing(http: httpx.Client) -> None:
    name = person(http)
    at_step_start()
    token, secret = enrolment(http, name)
    wrong = "000000" if code(secret) != "000000" else "111111"
    for _ in range(12):  # more than the lockout allows, were they counted
        error(finish(http, token, wrong), 400, "invalid_request")
    # Nothing was set up by the wrong codes.
    assert first_step(http, name)["error"] == "mfa_enrollment_required"
    assert finish(http, token, code(secret)).status_code == 200


def test_the_ticket_opens_once_and_not_after_it_expires(http: httpx.Client) -> None:
    name = person(http)
    at_step_start()
    token, secret = enrolment(http, name)
    assert finish(http, token, code(secret)).status_code == 200
    error(finish(http, token, code(secret, 1)), 401, "invalid_mfa_token")

    other = person(http)
    late, late_secret = enrolment(http, other)
    clock.advance(15 * 60)
    error(finish(http, late, code(late_secret)), 401, "invalid_mfa_token")


def test_only_the_apps_code_finishes_an_enrolment(http: httpx.Client) -> None:
    name = person(http)
    token, secret = enrolment(http, name)
    for method in ("recovery_code", "webauthn", "sms"):
        error(finish(http, token, code(secret), method=method), 400, "invalid_request")
    assertion = {"mfa_token": token, "method": "totp", "assertion": {"id": "x"}}
    error(http.post(MFA, json=assertion), 400, "invalid_request")


def test_a_second_steps_ticket_does_not_enrol_and_the_reverse(
    http: httpx.Client,
) -> None:
    admin = person(http)
    at_step_start()
    token, secret = enrolment(http, admin)
    assert finish(http, token, code(secret)).status_code == 200
    newcomer_name = person(http)
    newcomer, new_secret = enrolment(http, newcomer_name)
    # The admin's ordinary second step cannot take the newcomer's app code...
    admins = first_step(http, admin)["mfa_token"]
    error(finish(http, admins, code(new_secret)), 401, "invalid_credentials")
    # ...nor the newcomer's ticket the admin's code.
    error(finish(http, newcomer, code(secret, 1)), 400, "invalid_request")
    assert finish(http, newcomer, code(new_secret)).status_code == 200


def test_a_factor_set_up_meanwhile_voids_the_ticket(http: httpx.Client) -> None:
    name = person(http)
    at_step_start()
    first, _ = enrolment(http, name)
    second, secret = enrolment(http, name)
    assert finish(http, second, code(secret)).status_code == 200
    # The older ticket's app would replace the one just set up: refused.
    error(finish(http, first, code(secret, 1)), 401, "invalid_mfa_token")


def test_an_account_with_a_factor_is_asked_for_it_as_before(
    start_server: Callable[..., LiveServer],
) -> None:
    # Set up before the rule: the same database, served without it first.
    with start_server().client() as plain:
        actions = Actions(plain)
        login = actions.user()
        secret, _ = enrol(plain, login)
    with start_server(require_mfa=True).client() as http:
        body = first_step(http, login.username)
        assert body["error"] == "mfa_required"
        assert finish(http, body["mfa_token"], code(secret, 1)).status_code == 200


def test_without_the_rule_a_password_signs_in(
    start_server: Callable[..., LiveServer],
) -> None:
    with start_server().client() as http:
        name = person(http)
        response = http.post(LOGIN, json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
