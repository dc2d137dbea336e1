"""``POST /api/v1/auth/login``: tokens and cookies, one answer for every
failure, lockout, timing, rehashing, rate limits, and the access token itself."""

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from authgate.util import clock
from tests.support import db
from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

LOGIN = "/api/v1/auth/login"
WRONG = "not the password, sorry"
OWASP_ARGON2 = {"argon2_time_cost": 2, "argon2_memory_kib": 19456}


def login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    return http.post(LOGIN, json={"username": username, "password": password})


def cookie_attributes(response: httpx.Response) -> dict[str, dict[str, str]]:
    """Each Set-Cookie of the response: name → {"value": …, attribute: value}."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        parsed = {"value": value}
        for attribute in attributes:
            key, _, attribute_value = attribute.partition("=")
            parsed[key.lower()] = attribute_value
        found[name] = parsed
    return found


def hash_parameters(password_hash: str) -> tuple[int, int]:
    match = re.search(r"\$m=(\d+),t=(\d+),p=\d+\$", password_hash)
    assert match, password_hash
    return int(match[1]), int(match[2])


# -- success: body and cookies


def test_login_returns_tokens_and_sets_cookies(
    actions: Actions, client: httpx.Client
) -> None:
    name = random_name()
    assert actions.register(name).status_code == 201
    response = login(client, name, PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "token_type", "expires_in", "refresh_token"} <= set(body)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"].count(".") == 2
    assert body["refresh_token"].startswith("ag_rt_")
    assert response.headers["cache-control"] == "no-store"

    cookies = cookie_attributes(response)
    session = cookies["ag_session"]
    assert session["value"].startswith("ag_ses_")
    assert "httponly" in session
    assert session["samesite"].lower() == "lax"
    assert session["path"] == "/"
    assert "secure" not in session  # plain http: a Secure cookie would be lost

    csrf = cookies["ag_csrf"]
    assert csrf["value"] == body["csrf_token"]
    assert "httponly" not in csrf  # the page's script reads it
    assert "secure" not in csrf

    refresh = cookies["ag_refresh"]
    assert refresh["value"] == body["refresh_token"]
    assert refresh["path"] == "/api/v1/auth"
    assert "httponly" in refresh
    assert "secure" not in refresh
    # Never sent on a request another site starts, not even a top-level link.
    assert refresh["samesite"].lower() == "strict"


def test_cookies_are_secure_when_configured(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(cookie_secure=True)
    with server.client() as http:
        name = random_name()
        assert Actions(http).register(name).status_code == 201
        response = login(http, name, PASSWORD)
    assert response.status_code == 200, response.text
    cookies = cookie_attributes(response)
    # Secure cookies are __Host- cookies (tests/integration/api/test_host_cookies.py).
    for name in ("__Host-ag_session", "__Host-ag_csrf", "__Host-ag_refresh"):
        assert "secure" in cookies[name], name


def test_cookies_are_secure_by_default_behind_an_https_public_url(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(public_url="https://auth.example.test")
    with server.client() as http:
        name = random_name()
        assert Actions(http).register(name).status_code == 201
        response = login(http, name, PASSWORD)
    assert response.status_code == 200, response.text
    cookies = cookie_attributes(response)
    # __Host- cookies on https (tests/integration/api/test_host_cookies.py).
    for name in ("__Host-ag_session", "__Host-ag_csrf", "__Host-ag_refresh"):
        assert "secure" in cookies[name], name


# -- failures


def test_every_failure_gives_the_same_answer(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(max_login_attempts=3)
    with server.client() as http:
        actions = Actions(http)
        victim = random_name()
        assert actions.register(victim).status_code == 201
        wrong = login(http, victim, WRONG)
        unknown = login(http, random_name("nobody"), PASSWORD)
        malformed = login(http, "no such user!", PASSWORD)
        login(http, victim, WRONG)
        login(http, victim, WRONG)  # the third failure locks
        locked = login(http, victim, PASSWORD)
    first = error(wrong, 401, "invalid_credentials")
    for other in (unknown, malformed, locked):
        assert error(other, 401) == first
        assert other.headers.get("www-authenticate") == wrong.headers.get(
            "www-authenticate"
        )


def test_lockout_after_max_attempts_until_it_expires(
    actions: Actions, client: httpx.Client
) -> None:
    name = random_name()
    assert actions.register(name).status_code == 201
    # Four failures (in any letter case: the counter is per normalised name)
    # do not lock; a success clears them.
    for attempt in (name, name.upper(), name, name.upper()):
        error(login(client, attempt, WRONG), 401)
    assert login(client, name, PASSWORD).status_code == 200
    for _ in range(4):
        error(login(client, name, WRONG), 401)
    assert login(client, name, PASSWORD).status_code == 200

    for _ in range(5):
        error(login(client, name.upper(), WRONG), 401)
    # Locked: the right password is refused, with the same answer.
    error(login(client, name, PASSWORD), 401, "invalid_credentials")
    clock.advance(15 * 60 - 30)
    error(login(client, name, PASSWORD), 401, "invalid_credentials")
    clock.advance(60)
    assert login(client, name, PASSWORD).status_code == 200


def test_lockout_holds_across_instances(
    start_server: Callable[..., LiveServer],
) -> None:
    first = start_server()
    second = start_server()  # the same database
    with first.client() as one, second.client() as two:
        name = random_name()
        assert Actions(one).register(name).status_code == 201
        assert login(two, name, PASSWORD).status_code == 200
        # 3 + 2 failures: neither instance alone saw five.
        for http in (one, one, one, two, two):
            error(login(http, name, WRONG), 401)
        error(login(one, name, PASSWORD), 401, "invalid_credentials")
        error(login(two, name, PASSWORD), 401, "invalid_credentials")


def test_unknown_user_costs_as_much_as_a_wrong_password(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(
        **OWASP_ARGON2, rate_limit_enabled=False, max_login_attempts=1000
    )
    with server.client() as http:
        name = random_name()
        assert Actions(http).register(name).status_code == 201

        def timed(username: str) -> float:
            started = time.perf_counter()
            response = login(http, username, WRONG)
            elapsed = time.perf_counter() - started
            assert response.status_code == 401
            return elapsed

        for _ in range(2):  # warm up both paths
            timed(name)
            timed(random_name("nobody"))
        wrong, unknown = [], []
        for _ in range(11):  # interleaved, so load changes hit both alike
            wrong.append(timed(name))
            unknown.append(timed(random_name("nobody")))
    # Each unknown name against the wrong password timed just before it: a
    # machine whose load changes half-way (other tests on its cores) moves
    # both sides of a pair alike, but not the two lists' medians.
    ratio = statistics.median(u / w for u, w in zip(unknown, wrong, strict=True))
    assert 0.6 <= ratio <= 1.6, (ratio, wrong, unknown)


def test_login_rehashes_a_password_with_old_parameters(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    old = start_server()  # argon2 time cost 1
    name = random_name()
    with old.client() as http:
        assert Actions(http).register(name).status_code == 201
    before = db.user(database_url, name).password_hash
    assert hash_parameters(before) == (1024, 1)

    new = start_server(argon2_time_cost=2)
    with new.client() as http:
        error(login(http, name, WRONG), 401)
        assert db.user(database_url, name).password_hash == before
        assert login(http, name, PASSWORD).status_code == 200
        after = db.user(database_url, name).password_hash
        assert hash_parameters(after) == (1024, 2)
        assert login(http, name, PASSWORD).status_code == 200
        assert db.user(database_url, name).password_hash == after


def test_login_is_rate_limited_per_ip(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(rate_limit_enabled=True, login_rate_limit_per_minute=3)
    with server.client() as http:
        name = random_name()
        assert Actions(http).register(name).status_code == 201
        for _ in range(3):
            error(login(http, name, WRONG), 401)
        limited = login(http, name, PASSWORD)  # even the right password
        error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 61


def test_rate_limit_can_be_turned_off(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(rate_limit_enabled=False, login_rate_limit_per_minute=3)
    with server.client() as http:
        name = random_name()
        assert Actions(http).register(name).status_code == 201
        for _ in range(3):
            error(login(http, name, WRONG), 401)
        assert login(http, name, PASSWORD).status_code == 200
        for _ in range(3):
            error(login(http, random_name(), WRONG), 401)


# -- the access token


def decode(token: str, jwks: dict[str, Any], issuer: str) -> dict[str, Any]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["ES256"], audience=issuer, issuer=issuer
    )
    return claims


def test_access_token_is_an_rfc9068_jwt(
    server: LiveServer, actions: Actions, client: httpx.Client, database_url: str
) -> None:
    first = actions.admin()
    jwks = client.get("/oauth/jwks").json()
    header = jwt.get_unverified_header(first.access_token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}

    claims = decode(first.access_token, jwks, server.url)
    assert {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "sid"} <= (
        set(claims)
    )
    me = client.get("/api/v1/me", headers=first.bearer).json()
    assert claims["iss"] == server.url
    assert claims["aud"] == server.url
    assert claims["sub"] == me["id"]
    assert claims["client_id"] == "authgate"
    assert set(claims["scope"].split()) == {"read", "write"}
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert abs(claims["iat"] - time.time()) < 60

    session = db.run(database_url, lambda tx: tx.sessions.get(claims["sid"]))
    assert session is not None
    assert session.user_id == me["id"]

    second = actions.login(first.username)
    again = decode(second.access_token, jwks, server.url)
    assert again["jti"] != claims["jti"]
    assert again["sid"] != claims["sid"]


def test_the_jwt_expiry_setting_is_honoured_and_enforced(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(jwt_expiry="5m")
    with server.client() as http:
        signed_in = Actions(http).admin()
        jwks = http.get("/oauth/jwks").json()
    assert signed_in.body["expires_in"] == 300
    claims = decode(signed_in.access_token, jwks, server.url)
    assert claims["exp"] - claims["iat"] == 300

    with server.client(headers=signed_in.bearer) as http:
        assert http.get("/api/v1/me").status_code == 200  # now cached
        clock.advance(4 * 60)
        assert http.get("/api/v1/me").status_code == 200
        clock.advance(60 + 1)
        response = http.get("/api/v1/me")
    error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")
