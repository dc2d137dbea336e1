"""``authgate serve --workers 2`` beside an ordinary instance, on one real
PostgreSQL (and one real Redis): the workers are instances like any other.
Each request below goes on a new connection, so the kernel hands them to
either worker; a rule that held on one worker only would fail some of them."""

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import jwt
import pytest

from tests.conftest import FAST_ARGON2, SECRET
from tests.support import prometheus
from tests.support.actions import Actions, random_name
from tests.support.cli import AUTHGATE
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

#: Instances behind one load balancer share one public URL (the issuer).
PUBLIC_URL = "https://auth.example.test"
#: Enough new connections that both workers answer some (each one misses all
#: of them with probability 2**-(TRIES-1)).
TRIES = 16


class Workers:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        """One request on a connection of its own."""
        with httpx.Client(base_url=self.url, timeout=10) as http:
            return http.get(path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            return http.post(path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def start_workers(
    tmp_path: Path, database_url: str
) -> Iterator[Callable[..., Workers]]:
    processes: list[subprocess.Popen[str]] = []
    logs: list[IO[str]] = []

    def start(**settings: str) -> Workers:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        env.update(
            AUTHGATE_DATABASE_URL=database_url,
            AUTHGATE_SECRET_KEY=SECRET,
            AUTHGATE_PUBLIC_URL=PUBLIC_URL,
            AUTHGATE_DATA_DIR=str(tmp_path / "data"),
            AUTHGATE_ARGON2_TIME_COST=str(FAST_ARGON2["argon2_time_cost"]),
            AUTHGATE_ARGON2_MEMORY_KIB=str(FAST_ARGON2["argon2_memory_kib"]),
            **{f"AUTHGATE_{k.upper()}": v for k, v in settings.items()},
        )
        log = tmp_path / f"serve-{port}.log"
        logs.append(log.open("w"))
        process = subprocess.Popen(
            [AUTHGATE, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=logs[-1],
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        workers = Workers(f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + 180  # a busy CI machine
        # Ready once both workers have said so.
        while log.read_text().count("Application startup complete") < 2:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        return workers

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    for log in logs:
        log.close()


def _refused_everywhere_within(
    workers: Workers, headers: dict[str, str], seconds: float
) -> float | None:
    """Seconds until every worker refuses these headers (TRIES refusals in a
    row on new connections), or None if that never happens in time."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if all(
            workers.get("/api/v1/me", headers=headers).status_code == 401
            for _ in range(TRIES)
        ):
            return time.monotonic() - started
    return None


@pytest.mark.redis
@pytest.mark.parametrize("with_redis", [False, True], ids=["notify", "redis"])
def test_a_logout_on_one_worker_reaches_every_worker_and_instance(
    start_server: Callable[..., LiveServer],
    start_workers: Callable[..., Workers],
    request: pytest.FixtureRequest,
    with_redis: bool,
) -> None:
    settings = {"redis_url": request.getfixturevalue("redis_url")} if with_redis else {}
    workers = start_workers(**settings)
    other = start_server(public_url=PUBLIC_URL, **settings)
    with other.client() as on_other:
        login = Actions(on_other).admin()
        for _ in range(TRIES):  # each worker verifies and caches it
            assert workers.get("/api/v1/me", headers=login.bearer).status_code == 200
        logout = workers.post("/api/v1/auth/logout", headers=login.bearer)
        assert logout.status_code == 204
        started = time.monotonic()
        delay = _refused_everywhere_within(workers, login.bearer, 3.0)
        assert on_other.get("/api/v1/me", headers=login.bearer).status_code == 401
    assert delay is not None, "a worker kept accepting a revoked session's token"
    # TRIES requests take part of the second themselves.
    assert time.monotonic() - started - delay < 1.0 or delay < 1.0


def test_the_workers_sign_with_one_key_ring_and_follow_a_rotation(
    start_server: Callable[..., LiveServer],
    start_workers: Callable[..., Workers],
    database_url: str,
) -> None:
    workers = start_workers()
    other = start_server(public_url=PUBLIC_URL)
    with other.client() as on_other:
        actions = Actions(on_other)
        admin = actions.admin()
        kids = {
            jwt.get_unverified_header(_login(workers, admin.username))["kid"]
            for _ in range(TRIES)
        }
        # Started on an empty database, the workers made one key between them.
        assert len(kids) == 1
        rotated = subprocess.run(
            [AUTHGATE, "admin", "rotate-keys"],
            env={
                **{
                    k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")
                },
                "AUTHGATE_DATABASE_URL": database_url,
                "AUTHGATE_SECRET_KEY": SECRET,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert rotated.returncode == 0, rotated.stderr
        time.sleep(1.0)  # the feed carries the rotation to every worker
        tokens = [_login(workers, admin.username) for _ in range(TRIES)]
        assert {jwt.get_unverified_header(t)["kid"] for t in tokens}.isdisjoint(kids)
        for token in tokens:
            headers = Actions.bearer(token)
            assert workers.get("/api/v1/me", headers=headers).status_code == 200
            assert on_other.get("/api/v1/me", headers=headers).status_code == 200


def _login(workers: Workers, username: str) -> str:
    response = workers.post(
        "/api/v1/auth/login",
        json={"username": username, "password": "correct horse battery staple"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.redis
def test_lockout_and_rate_limits_are_shared(
    start_workers: Callable[..., Workers], redis_url: str
) -> None:
    workers = start_workers(redis_url=redis_url, login_rate_limit_per_minute="4")
    wrong = {"username": random_name(), "password": "not the password"}
    answers = [
        workers.post("/api/v1/auth/login", json=wrong).status_code for _ in range(6)
    ]
    # Four in the minute between both workers, not four on each.
    assert answers == [401, 401, 401, 401, 429, 429]


def test_metrics_show_every_worker(start_workers: Callable[..., Workers]) -> None:
    workers = start_workers()
    deadline = time.monotonic() + 20
    while True:
        for _ in range(TRIES):
            assert workers.get("/healthz").status_code == 200
        text = workers.get("/metrics").text
        families = prometheus.parse(text)
        labels = {
            dict(series)["worker"]
            for _, series in families["authgate_build_info"].samples
        }
        answered = {
            dict(series)["worker"]
            for _, series in families["authgate_http_requests_total"].samples
            if {("method", "GET"), ("route", "/healthz"), ("status", "2xx")} <= series
        }
        # Until each worker has answered some and written its snapshot since.
        if (len(labels) == 2 and answered == labels) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(labels) == 2, text
    assert answered == labels, text
    # One family header, however many workers.
    assert text.count("# TYPE authgate_http_requests_total counter") == 1
    # No Redis: the operator is told that each worker limits rates on its own.
    assert "Each of the 2 workers counts rate limits on its own" in (
        workers.log.read_text()
    )


def test_a_lockout_earned_across_workers_holds_on_every_worker(
    start_workers: Callable[..., Workers],
) -> None:
    workers = start_workers(rate_limit_enabled="false", max_login_attempts="3")
    name = random_name()
    password = "correct horse battery staple"
    account = {"username": name, "password": password}
    assert workers.post("/api/v1/auth/register", json=account).status_code == 201
    wrong = {"username": name, "password": "not the password"}
    for _ in range(3):
        assert workers.post("/api/v1/auth/login", json=wrong).status_code == 401
    # Locked now, whichever worker answers: the right password is refused too.
    for _ in range(TRIES):
        assert workers.post("/api/v1/auth/login", json=account).status_code == 401
