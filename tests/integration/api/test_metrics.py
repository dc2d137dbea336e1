"""``GET /metrics`` on a live server: Prometheus text that a strict parser
accepts, counts that move with requests, sign-ins and grants, no id or secret
in any label, and who may read it."""

import re
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support import prometheus
from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

TOKEN = "metrics-token-0123456789abcdefghijklmnop"
REQUESTS = "authgate_http_requests_total"
LOGINS = "authgate_logins_total"
TOKENS = "authgate_tokens_issued_total"


def scrape(http: httpx.Client, **headers: str) -> dict[str, prometheus.Family]:
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert (
        response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    )
    return prometheus.parse(response.text)


def count(families: dict[str, prometheus.Family], name: str, **labels: str) -> float:
    try:
        return prometheus.value(families, name, **labels)
    except KeyError:
        return 0.0


def moved(
    http: httpx.Client, act: Callable[[], Any], name: str, **labels: str
) -> float:
    """How much one series grew while ``act`` ran."""
    before = count(scrape(http), name, **labels)
    act()
    return count(scrape(http), name, **labels) - before


def test_requests_are_counted_by_route_template(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    user_id = client.get("/api/v1/me", headers=admin.bearer).json()["id"]
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    found = client.get(f"/api/v1/admin/users/{user_id}", headers=admin.bearer)
    assert found.status_code == 200
    missing = f"/api/v1/admin/users/usr_nobody{random_name()}"
    assert client.get(missing, headers=admin.bearer).status_code == 404
    stray = f"/no/such/{admin.access_token}/{user_id}"
    assert client.get(stray).status_code == 404
    # a method no route has (httptools parses only registered HTTP methods)
    assert client.request("PROPFIND", "/healthz").status_code == 405
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return count(after, name, **labels) - count(before, name, **labels)

    healthz = {"method": "GET", "route": "/healthz"}
    assert grew(REQUESTS, **healthz, status="2xx") == 3
    histogram = "authgate_http_request_duration_seconds"
    assert grew(f"{histogram}_count", **healthz) == 3
    assert grew(f"{histogram}_bucket", **healthz, le="+Inf") == 3
    assert grew(f"{histogram}_sum", **healthz) > 0
    one_user = {"method": "GET", "route": "/api/v1/admin/users/{user_id}"}
    assert grew(REQUESTS, **one_user, status="2xx") == 1
    assert grew(REQUESTS, **one_user, status="4xx") == 1
    assert grew(REQUESTS, method="GET", route="unmatched", status="4xx") == 1
    assert grew(REQUESTS, method="other", route="/healthz", status="4xx") == 1

    # No id, token, name or raw path in any label: only route templates.
    template = re.compile(r"(/([A-Za-z0-9._-]*|\{[a-z_]+\}))+")
    text = client.get("/metrics").text
    for secret in (user_id, admin.access_token, admin.username, "usr_", "/no/such"):
        assert secret not in text
    for family in after.values():
        for _name, labels in family.samples:
            values = dict(labels)
            if "route" in values:
                route = values["route"]
                assert route == "unmatched" or template.fullmatch(route), values
            if "method" in values:
                assert values["method"] in {"GET", "POST", "PATCH", "other"}, values


def test_sign_ins_are_counted_by_outcome(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(max_login_attempts=2)
    with server.client() as http:
        actions = Actions(http)
        admin = actions.admin()
        before = scrape(http)

        def attempt(password: str) -> int:
            response = http.post(
                "/api/v1/auth/login",
                json={"username": admin.username, "password": password},
            )
            return response.status_code

        assert attempt(PASSWORD) == 200
        assert attempt("wrong password, once") == 401
        assert attempt("wrong password, twice") == 401  # now locked
        assert attempt("wrong password, again") == 401
        assert attempt(PASSWORD) == 401  # locked: the right password too
        after = scrape(http)

    def grew(name: str, **labels: str) -> float:
        return count(after, name, **labels) - count(before, name, **labels)

    assert grew(LOGINS, outcome="success") == 1
    assert grew(LOGINS, outcome="failure") == 2
    assert grew(LOGINS, outcome="locked") == 2
    audit = "authgate_audit_events_total"
    assert grew(audit, action="account.locked") == 1
    assert grew(audit, action="login.failed") == 4


def test_tokens_are_counted_by_grant_type(
    actions: Actions, client: httpx.Client
) -> None:
    user = actions.user()
    refresh = {"refresh_token": user.refresh_token}

    def refreshed() -> None:
        assert client.post("/api/v1/auth/refresh", json=refresh).status_code == 200

    assert (
        moved(
            client, lambda: actions.login(user.username), TOKENS, grant_type="password"
        )
        == 1
    )
    assert moved(client, refreshed, TOKENS, grant_type="refresh_token") == 1

    made = actions.make_client(grant_types=["client_credentials"], scope="read")
    auth = (made["client_id"], made["client_secret"])

    def grant(secret: str) -> Callable[[], None]:
        def post() -> None:
            client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(auth[0], secret),
            )

        return post

    assert moved(client, grant(auth[1]), TOKENS, grant_type="client_credentials") == 1
    assert moved(client, grant("wrong"), TOKENS, grant_type="client_credentials") == 0


def test_prometheus_client_reads_the_scrape(client: httpx.Client) -> None:
    """What a Prometheus server or any prometheus_client tool reads, with the
    process and garbage-collector families operators expect of a service."""
    response = client.get("/metrics")
    assert response.status_code == 200
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"authgate_http_requests", "authgate_build_info"} <= names
    assert {"process_resident_memory_bytes", "process_open_fds"} <= names
    assert {"python_gc_objects_collected", "python_gc_collections"} <= names


def test_the_verification_cache_is_reported(
    server: LiveServer, actions: Actions, client: httpx.Client
) -> None:
    login = actions.login(actions.admin().username)  # a token never checked yet

    def me() -> None:
        assert client.get("/api/v1/me", headers=login.bearer).status_code == 200

    misses = "authgate_verification_cache_misses_total"
    hits = "authgate_verification_cache_hits_total"
    with server.client() as scraper:  # no cookie: scrapes check no credential
        assert moved(scraper, me, misses) == 1
        assert moved(scraper, me, hits) == 1
        assert moved(scraper, me, misses) == 0
        assert count(scrape(scraper), "authgate_verification_cache_entries") >= 1


def test_the_token_guards_metrics(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(metrics_token=TOKEN)
    with server.client() as http:
        for headers in (
            {},
            {"Authorization": f"Bearer {TOKEN[:-1]}"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
        ):
            refused = http.get("/metrics", headers=headers)
            error(refused, 401, "unauthenticated")
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert TOKEN not in refused.text
        families = scrape(http, Authorization=f"Bearer {TOKEN}")
        assert "authgate_http_requests_total" in families
        # The token opens it through a proxy too, and never shows up in it.
        text = http.get(
            "/metrics",
            headers={"Authorization": f"bearer {TOKEN}", "X-Forwarded-For": "1.2.3.4"},
        ).text
        assert TOKEN not in text
        assert re.search(r'status="4xx"', text)  # the refusals were counted


def test_without_a_token_only_from_this_machine(
    start_server: Callable[..., LiveServer],
) -> None:
    local = start_server()
    with local.client() as http:
        assert http.get("/metrics").status_code == 200
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            proxied = http.get("/metrics", headers={header: "203.0.113.9"})
            error(proxied, 403, "forbidden")
    exposed = start_server(host="0.0.0.0")  # noqa: S104
    with exposed.client() as http:
        refused = error(http.get("/metrics"), 403, "forbidden")
        assert "AUTHGATE_METRICS_TOKEN" in refused["error_description"]
