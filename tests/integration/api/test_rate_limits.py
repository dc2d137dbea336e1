"""Rate limits that hold: each covered endpoint answers 429 with ``Retry-After``
past its limit (never 5xx); the address behind a trusted proxy counts, a
forged ``X-Forwarded-For`` does not; an IPv6 /64 is one address; password
re-checks are limited per account, from any address, and audited.

Addresses other than 127.0.0.1 are only ever written into headers: every
request goes to the loopback server."""

import secrets
from collections.abc import Callable

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import Browser
from tests.support.pages import form_token, post, signed_in

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PROXIED = {"trusted_proxies": ["127.0.0.1"]}
LOGIN = "/api/v1/auth/login"
WRONG = "not the password, sorry"


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def limited(response: httpx.Response, code: str = "rate_limited") -> None:
    error(response, 429, code)
    assert 1 <= int(response.headers["retry-after"]) <= 60


def wrong_login(http: httpx.Client, address: str | None = None) -> httpx.Response:
    return http.post(
        LOGIN,
        json={"username": random_name(), "password": WRONG},
        headers=from_address(address) if address else None,
    )


def register_client(http: httpx.Client, address: str | None = None) -> httpx.Response:
    return http.post(
        "/oauth/register",
        json={
            "client_name": "flood",
            "redirect_uris": ["http://127.0.0.1:9/callback"],
            "token_endpoint_auth_method": "none",
        },
        headers=from_address(address) if address else None,
    )


@SQLITE_ONLY
def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(login_rate_limit_per_minute=3)
    with server.client() as http:
        for n in range(3):
            error(wrong_login(http, f"198.51.100.{n}"), 401)
        limited(wrong_login(http, "198.51.100.99"))


@SQLITE_ONLY
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(login_rate_limit_per_minute=3, **PROXIED)
    with server.client() as http:
        for _ in range(3):
            error(wrong_login(http, "203.0.113.1"), 401)
        limited(wrong_login(http, "203.0.113.1"))
        # The client's own forged entry, left of the one the proxy appended.
        limited(wrong_login(http, "192.0.2.77, 203.0.113.1"))
        error(wrong_login(http, "203.0.113.2"), 401)


@SQLITE_ONLY
def test_the_forwarded_address_is_the_one_sessions_and_audit_record(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(**PROXIED)
    with server.client() as http:
        actions = Actions(http)
        name = random_name()
        invited = actions.register(name, invite_code=actions.invite())
        assert invited.status_code == 201
        signed_in = http.post(
            LOGIN,
            json={"username": name, "password": PASSWORD},
            headers=from_address("203.0.113.50"),
        )
        assert signed_in.status_code == 200
        bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        sessions = http.get("/api/v1/sessions", headers=bearer).json()["items"]
        assert [s["ip"] for s in sessions] == ["203.0.113.50"]
        events = http.get(
            "/api/v1/admin/audit",
            headers=actions.admin().bearer,
            params={"action": "login.succeeded"},
        ).json()["items"]
        assert "203.0.113.50" in {e["ip"] for e in events}


@SQLITE_ONLY
def test_an_ipv6_slash_64_is_one_address(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(login_rate_limit_per_minute=3, **PROXIED)
    with server.client() as http:
        for n in range(3):
            error(wrong_login(http, f"2001:db8:5:5::{n + 1:x}"), 401)
        limited(wrong_login(http, "2001:db8:5:5:ffff::9"))
        error(wrong_login(http, "2001:db8:5:6::1"), 401)


@SQLITE_ONLY
def test_pages_over_the_limit_say_when_to_retry(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(login_rate_limit_per_minute=2)
    with server.client() as http:
        token = form_token(http, "/login")
        for _ in range(2):
            error(wrong_login(http), 401)
        page = post(http, "/login", token, username="someone", password=WRONG)
    assert page.status_code == 429
    assert 1 <= int(page.headers["retry-after"]) <= 60


@SQLITE_ONLY
def test_dynamic_registration_is_limited_per_address(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(oauth_register_rate_limit_per_minute=2, **PROXIED)
    with server.client() as http:
        for _ in range(2):
            assert register_client(http, "203.0.113.9").status_code == 201
        limited(register_client(http, "203.0.113.9"))
        assert register_client(http, "203.0.113.10").status_code == 201


def client_credentials(
    http: httpx.Client, client_id: str, secret: str, address: str | None = None
) -> httpx.Response:
    return http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers=from_address(address) if address else None,
    )


@SQLITE_ONLY
def test_the_token_endpoint_is_limited_per_client(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(oauth_token_rate_limit_per_minute=3, **PROXIED)
    with server.client() as http:
        actions = Actions(http)
        a = actions.make_client(grant_types=["client_credentials"])
        b = actions.make_client(grant_types=["client_credentials"])
        for n in range(3):
            ok = client_credentials(
                http, a["client_id"], a["client_secret"], f"203.0.113.{n}"
            )
            assert ok.status_code == 200, ok.text
        limited(client_credentials(http, a["client_id"], a["client_secret"]))
        assert client_credentials(http, b["client_id"], b["client_secret"]).is_success


@SQLITE_ONLY
def test_wrong_secrets_spend_the_senders_budget_not_the_clients(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(
        login_rate_limit_per_minute=3, oauth_token_rate_limit_per_minute=3, **PROXIED
    )
    with server.client() as http:
        real = Actions(http).make_client(grant_types=["client_credentials"])
        attacker = "198.51.100.66"
        for _ in range(3):
            bad = client_credentials(http, real["client_id"], "guess", attacker)
            error(bad, 401, "invalid_client")
        limited(client_credentials(http, real["client_id"], "guess", attacker))
        ok = client_credentials(
            http, real["client_id"], real["client_secret"], "203.0.113.5"
        )
        assert ok.status_code == 200, ok.text


@SQLITE_ONLY
def test_unknown_clients_are_limited_per_address(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(login_rate_limit_per_minute=3, **PROXIED)
    with server.client() as http:
        for _ in range(3):
            unknown = client_credentials(
                http, f"made-up-{secrets.token_hex(4)}", "x", "198.51.100.7"
            )
            error(unknown, 401, "invalid_client")
        limited(client_credentials(http, "made-up-again", "x", "198.51.100.7"))


@SQLITE_ONLY
def test_device_authorization_is_limited_per_public_client_and_address(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(device_authorization_rate_limit_per_minute=2, **PROXIED)
    with server.client() as http:
        device = Actions(http).make_client(public=True, grant_types=["device_code"])

        def start(address: str) -> httpx.Response:
            return http.post(
                "/oauth/device_authorization",
                data={"client_id": device["client_id"]},
                headers=from_address(address),
            )

        for _ in range(2):
            assert start("203.0.113.20").status_code == 200
        limited(start("203.0.113.20"))
        # Anyone can name a public client: one address cannot spend it for all.
        assert start("203.0.113.21").status_code == 200


@SQLITE_ONLY
def test_user_codes_are_limited_per_person_across_addresses(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(user_code_rate_limit_per_minute=3, **PROXIED)
    with (
        server.client() as http,
        Browser(server.url, Actions(http).user()) as person,
    ):
        answers = [
            person.http.get(
                "/device",
                params={"user_code": "BCDF-GHJK"},
                headers=from_address(f"203.0.113.{n}"),
            )
            for n in range(4)
        ]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60


def new_recovery_key(
    http: httpx.Client, bearer: dict[str, str], password: str, address: str
) -> httpx.Response:
    return http.post(
        "/api/v1/recovery-key",
        json={"password": password},
        headers={**bearer, **from_address(address)},
    )


def test_password_rechecks_are_limited_per_account_and_audited(
    start_server: Callable[..., LiveServer],
) -> None:
    """From a new address each time and with per-address limits off: the
    account's budget still runs out, even for the right password, and each
    wrong guess is in the audit log."""
    server = start_server(rate_limit_enabled=False, max_login_attempts=3, **PROXIED)
    with server.client() as http:
        actions = Actions(http)
        alice = actions.user()
        for n in range(3):
            wrong = new_recovery_key(http, alice.bearer, WRONG, f"198.51.100.{n}")
            error(wrong, 401)
        refused = new_recovery_key(http, alice.bearer, PASSWORD, "198.51.100.9")
        error(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) > 60  # the lockout's length
        events = http.get(
            "/api/v1/admin/audit",
            headers=actions.admin().bearer,
            params={"action": "password.recheck_failed"},
        ).json()["items"]
        assert sorted(e["ip"] for e in events) == [f"198.51.100.{n}" for n in range(3)]
        # Another account is not affected.
        bob = actions.user()
        made = new_recovery_key(http, bob.bearer, PASSWORD, "198.51.100.9")
        assert made.status_code == 201, made.text


@SQLITE_ONLY
def test_the_settings_pages_share_the_accounts_recheck_budget(
    start_server: Callable[..., LiveServer],
) -> None:
    """Wrong current passwords on the password form and the recovery-key form
    and through the API all count against one account."""
    server = start_server(rate_limit_enabled=False, max_login_attempts=3)
    with server.client() as http:
        actions = Actions(http)
        alice = actions.user()
        token = signed_in(actions, http, alice)
        change = {
            "new_password": "a new passphrase",
            "confirm_password": "a new passphrase",
        }
        wrong = post(
            http, "/settings/profile/password", token, current_password=WRONG, **change
        )
        assert wrong.status_code == 401
        other = post(http, "/settings/security/recovery-key", token, password=WRONG)
        assert other.status_code == 401
        error(new_recovery_key(http, alice.bearer, WRONG, "127.0.0.1"), 401)
        refused = post(
            http,
            "/settings/profile/password",
            token,
            current_password=PASSWORD,
            **change,
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 60
        # Refused before the change: the old password still signs in.
        assert actions.login(alice.username).body["access_token"]
