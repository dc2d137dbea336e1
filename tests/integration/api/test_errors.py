"""Every failure answers ``{"error", "error_description"}`` with the right
status, never a stack trace, and leaves nothing half-written.

``error()`` checks the exact keys, the JSON content type and the absence of
traceback text or file paths on every response it is given."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import MakeSettings
from tests.support import db
from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
JSON = {"Content-Type": "application/json"}


def post_raw(http: httpx.Client, path: str, content: bytes | str) -> httpx.Response:
    return http.post(path, content=content, headers=JSON)


def post_json(http: httpx.Client, path: str, body: Any) -> httpx.Response:
    """``body`` as ASCII JSON, so lone surrogates travel as ``\\ud800`` escapes."""
    return post_raw(http, path, json.dumps(body))


@pytest.fixture
def open_client(start_server: Callable[..., LiveServer]) -> Iterator[httpx.Client]:
    """A client of a server where anyone may register (and failed sign-ins do
    not lock anyone out)."""
    server = start_server(allow_registration=True, max_login_attempts=1000)
    with server.client() as http:
        yield http


def test_a_body_that_is_not_a_json_object_is_400(
    open_client: httpx.Client, database_url: str
) -> None:
    malformed = [
        b'{"username": "alice", "password": ',
        b"{username: alice}",
        b"\xff\xfe not json",
        b'{"username": "alice", "password": "x"}}',
        b"",
    ]
    not_objects = [
        json.dumps(body) for body in ([], ["alice", PASSWORD], "alice", 42, None, True)
    ]
    for content in malformed + not_objects:
        for path in (REGISTER, LOGIN):
            response = post_raw(open_client, path, content)
            error(response, 400, "invalid_request")
    form = open_client.post(
        REGISTER,
        content=f"username=alice&password={PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code in (400, 415), form.text
    assert error(form, form.status_code)["error"] in (
        "invalid_request",
        "unsupported_media_type",
    )
    assert db.count_users(database_url) == 0


def test_wrong_missing_empty_or_huge_fields_are_400(
    open_client: httpx.Client, database_url: str
) -> None:
    name = random_name()
    huge = "a" * 10_000
    credentials = [
        {"username": 123, "password": PASSWORD},
        {"username": name, "password": None},
        {"username": [name], "password": PASSWORD},
        {"username": {"$ne": ""}, "password": PASSWORD},
        {"username": name, "password": 123456789012345},
        {"username": name, "password": True},
        {"username": name},
        {"password": PASSWORD},
        {},
        {"username": "", "password": PASSWORD},
        {"username": name, "password": ""},
        {"username": huge, "password": PASSWORD},
        {"username": name, "password": huge},
    ]
    extras = [
        {"username": name, "password": PASSWORD, "email": 5},
        {"username": name, "password": PASSWORD, "invite_code": ["x"]},
        {"username": name, "password": PASSWORD, "email": f"{huge}@example.com"},
        {"username": name, "password": PASSWORD, "invite_code": huge},
    ]
    for body in credentials + extras:
        error(post_json(open_client, REGISTER, body), 400, "invalid_request")
    for body in credentials:
        error(post_json(open_client, LOGIN, body), 400, "invalid_request")
    assert db.count_users(database_url) == 0


def test_a_body_over_the_limit_is_413(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server(max_body_bytes=2048, allow_registration=True)
    name = random_name()
    big = json.dumps({"username": name, "password": "p" * 3000}).encode()
    with server.client() as http:
        error(post_raw(http, REGISTER, big), 413, "payload_too_large")

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(big), 500):
                yield big[start : start + 500]

        chunked = http.post(REGISTER, content=chunks(), headers=JSON)
        assert "content-length" not in chunked.request.headers
        assert chunked.request.headers["transfer-encoding"] == "chunked"
        error(chunked, 413, "payload_too_large")
        # Just under the limit is served as usual.
        small = {"username": name, "password": PASSWORD, "email": "e" * 1500}
        assert len(json.dumps(small)) < 2048
        error(post_json(http, REGISTER, small), 400, "invalid_request")
        assert http.get("/healthz").status_code == 200
    assert db.count_users(database_url) == 0


ODD = {
    "NUL": "\x00",
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "right-to-left override": "\u202e",
    "byte order mark": "\ufeff",
    "zero-width space": "\u200b",
    "escape": "\x1b",
}
NOT_TEXT = ("\x00", "\ud800", "\udfff")


def test_odd_unicode_is_a_4xx_never_a_500(
    open_client: httpx.Client, database_url: str
) -> None:
    for label, odd in ODD.items():
        for body in (
            {"username": f"ali{odd}ce", "password": PASSWORD},
            {"username": odd, "password": PASSWORD},
            {
                "username": random_name(),
                "password": PASSWORD,
                "email": f"ali{odd}ce@example.com",
            },
        ):
            response = post_json(open_client, REGISTER, body)
            assert response.status_code == 400, (label, body, response.text)
            error(response, 400)
    for odd in NOT_TEXT:
        body = {"username": random_name(), "password": f"{PASSWORD}{odd}"}
        error(post_json(open_client, REGISTER, body), 400)
    assert db.count_users(database_url) == 0

    # Other unusual characters are fine in a password.
    for odd in ("\u202e", "\ufeff", "\u200b", "\u00e9t\u00e9", "\U0001f511"):
        name, password = random_name(), f"{PASSWORD}{odd}"
        body = {"username": name, "password": password}
        response = post_json(open_client, REGISTER, body)
        assert response.status_code == 201, (odd, response.text)
        response = post_json(open_client, LOGIN, body)
        assert response.status_code == 200, (odd, response.text)

    # Signing in with any of them is refused, as a bad request or bad credentials.
    for odd in ODD.values():
        for body in (
            {"username": odd, "password": PASSWORD},
            {"username": name, "password": odd},
            {"username": f"{name}{odd}", "password": PASSWORD},
        ):
            response = post_json(open_client, LOGIN, body)
            assert response.status_code in (400, 401), response.text
            error(response, response.status_code)
    response = post_json(open_client, LOGIN, {"username": name, "password": password})
    assert response.status_code == 200, response.text


def test_an_odd_invite_code_is_refused_not_a_500(
    actions: Actions, client: httpx.Client, database_url: str
) -> None:
    actions.admin()
    for odd in ODD.values():
        for code in (odd, f"ag_inv_{odd}", f"{actions.invite()}{odd}"):
            body = {
                "username": random_name(),
                "password": PASSWORD,
                "invite_code": code,
            }
            response = post_json(client, REGISTER, body)
            assert response.status_code in (400, 403), response.text
            error(response, response.status_code)
    assert db.count_users(database_url) == 1


def test_nul_in_the_url_is_a_400_on_every_route(
    actions: Actions, client: httpx.Client, database_url: str
) -> None:
    """PostgreSQL text cannot hold NUL: a path or query value carrying one
    would fail in the database. Refused at the edge instead, whatever route."""
    admin = actions.admin()
    for method, url in (
        ("DELETE", "/api/v1/admin/invites/inv%00x"),
        ("GET", "/api/v1/admin/audit?user=usr%00x"),
        ("GET", "/api/v1/orgs/acme%00"),
        ("GET", "/admin/users?q=%00"),
        ("GET", "/login?next=/settings%00"),
    ):
        response = client.request(method, url, headers=admin.bearer)
        error(response, 400, "invalid_request")
    assert client.get("/api/v1/admin/invites", headers=admin.bearer).status_code == 200


def test_unknown_paths_wrong_methods_and_bad_credentials(
    actions: Actions, client: httpx.Client
) -> None:
    for path in ("/nope", "/api/v1/nope", "/api/v2/me", "/api/v1/admin/invites/x/y"):
        error(client.get(path), 404, "not_found")
    for method, path in (
        ("GET", LOGIN),
        ("PUT", REGISTER),
        ("PUT", "/api/v1/me"),
        ("PATCH", "/api/v1/auth/refresh"),
        ("POST", "/oauth/jwks"),
    ):
        error(client.request(method, path), 405, "method_not_allowed")

    admin = actions.admin()
    forged_jwt = {"Authorization": "Bearer x.y.z"}
    forged_pat = {"Authorization": "Bearer ag_pat_x"}
    for response, status, code in (
        (client.get("/api/v1/me", headers=forged_jwt), 401, "invalid_token"),
        (client.get("/api/v1/me", headers=forged_pat), 401, "invalid_token"),
        (
            client.get("/api/v1/admin/audit?limit=x", headers=admin.bearer),
            400,
            "invalid_request",
        ),
        (
            client.delete("/api/v1/admin/invites/nope", headers=admin.bearer),
            404,
            "not_found",
        ),
        (actions.register(admin.username), 403, "forbidden"),
    ):
        error(response, status, code)


def test_a_refused_registration_writes_nothing(
    actions: Actions, client: httpx.Client, database_url: str
) -> None:
    admin = actions.admin()
    code = actions.invite()
    users = db.count_users(database_url)

    def invite_status() -> str:
        response = client.get("/api/v1/admin/invites", headers=admin.bearer)
        return str(response.json()["items"][0]["status"])

    def created_events() -> int:
        response = client.get(
            "/api/v1/admin/audit",
            params={"action": "user.created"},
            headers=admin.bearer,
        )
        return len(response.json()["items"])

    name = random_name()
    weak = actions.register(name, "password1234", invite_code=code)
    error(weak, 400, "weak_password")
    error(actions.register(admin.username, invite_code=code), 409, "conflict")
    error(actions.register("bad name", invite_code=code), 400, "invalid_request")
    assert db.count_users(database_url) == users
    assert db.user(database_url, name) is None
    assert invite_status() == "unused"
    assert created_events() == 1

    assert actions.register(name, invite_code=code).status_code == 201
    assert invite_status() == "used"
    other = random_name()
    error(actions.register(other, invite_code=code), 403, "forbidden")
    assert db.user(database_url, other) is None
    assert db.count_users(database_url) == users + 1
    assert created_events() == 2


def test_every_response_carries_the_security_headers(
    client: httpx.Client, actions: Actions
) -> None:
    login = actions.admin()
    for path, headers in (
        ("/healthz", {}),
        ("/api/v1/me", login.bearer),
        ("/api/v1/nothing-here", {}),
        ("/.well-known/oauth-authorization-server", {}),
    ):
        response = client.get(path, headers=headers)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert response.headers["cross-origin-opener-policy"] == "same-origin", path
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp, path
        assert "frame-ancestors 'none'" in csp, path


@pytest.mark.anyio
async def test_an_unexpected_exception_is_a_bare_500(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug answers the documented shape with a fixed text: the exception's
    message and traceback go to the log, never to the caller."""
    import httpx

    from authgate.app import create_app

    app = create_app(make_settings())

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail ag_pat_internal")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http,
    ):
        response = await http.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "error_description": "The server could not complete the request.",
    }
    assert "secret detail" not in response.text
    assert any("secret detail" in r.getMessage() or r.exc_info for r in caplog.records)


@pytest.mark.anyio
async def test_an_unexpected_exception_is_logged_and_answered_with_the_request_id(
    make_settings: MakeSettings,
) -> None:
    """Starlette answers an unexpected error outside every middleware added to
    the app; the request id is outside it too, so whoever reports the 500
    can quote the id of its log line."""
    import io
    import logging

    import httpx

    from authgate.app import create_app
    from authgate.server import logs

    app = create_app(make_settings())

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    written = io.StringIO()
    handler = logs.handler(stream=written)
    logging.getLogger("authgate").addHandler(handler)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http,
        ):
            response = await http.get(
                "/api/v1/boom", headers={"X-Request-ID": "bug-report-1"}
            )
    finally:
        logging.getLogger("authgate").removeHandler(handler)
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-report-1"
    assert "[bug-report-1] unhandled error" in written.getvalue()
    assert "RuntimeError: a bug" in written.getvalue()
