"""Issue #17's goal table: every figure measured side by side in one run.

Run with ``./dev bench`` (``.venv/bin/python benchmarks/run.py``). Every case is
one small function below, listed in ``CASES``; every line of the goal table in
``GOALS``.

How it measures: each configuration (``CONFIGS``) is ``authgate serve`` in a
subprocess on a free 127.0.0.1 port: PostgreSQL (a throw-away cluster, started
as the tests start theirs) with ``AUTHGATE_WORKERS=2``, and SQLite in one
process; beside each, a bare Starlette app on the same uvicorn with as many
workers. The load comes from ``benchmarks/load.py`` in another subprocess: N
concurrent keep-alive connections for a fixed time after a warm-up. The
baselines (raw argon2id, one thread per core; PyJWT's ES256 verify) run in
their own subprocesses while no server is busy. Server CPU per request is read
from ``/proc`` over the measured window, summed over the server's whole
process tree, so a case whose rate is capped by the load generator still shows
what the server spent.
"""

import argparse
import asyncio
import base64
import dataclasses
import datetime
import hashlib
import html
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

HERE = Path(__file__).resolve().parent
# The throw-away PostgreSQL cluster is the tests' own (tests/support/postgres.py).
sys.path.insert(0, str(HERE.parent))
from tests.support.postgres import Cluster  # noqa: E402

CORES = os.cpu_count() or 1
SECRET = "benchmark-secret-key-0123456789abcdefghijkl"
USERNAME = "bench"
PASSWORD = "correct horse battery staple"
ARGON2 = {"time_cost": 2, "memory_kib": 19456}  #: Settings' defaults (OWASP)


@dataclass(frozen=True)
class Config:
    """One way of running Authgate, measured side by side with the others."""

    label: str
    title: str
    workers: int
    postgres: bool


PG = Config("pg", "PostgreSQL, --workers 2", 2, postgres=True)
SQLITE = Config("sqlite", "SQLite, 1 process", 1, postgres=False)
CONFIGS = (PG, SQLITE)


@dataclass
class Options:
    warmup: float = 1.0
    duration: float = 6.0
    login_duration: float = 8.0
    #: connections of every case but login: p99 over p50 is a goal at 64
    light_concurrency: int = 64
    #: enough to keep every core's argon2 hashing busy
    login_concurrency: int = 2 * CORES
    #: the minimal client: with httpx the light cases measure the generator
    client: str = "raw"
    #: Each case's time is split into this many slices, and the cases take
    #: turns slice by slice: a spell of slowness on a shared machine then
    #: falls on both sides of a ratio instead of on whichever case it hit.
    rounds: int = 3
    #: revocations timed per round, between two instances on one PostgreSQL
    revocations: int = 12
    #: also fill PostgreSQL with 1M users and tokens (``--scale``)
    scale: bool = False

    @property
    def slice(self) -> float:
        return self.duration / self.rounds

    @property
    def login_slice(self) -> float:
        return self.login_duration / self.rounds


@dataclass
class Account:
    access_token: str
    user_id: str
    session_id: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Server:
    label: str
    url: str
    pid: int
    settings: dict[str, Any]
    account: Account | None = None
    #: secrets made once per server by the cases that need them
    made: dict[str, Any] = field(default_factory=dict)
    #: PostgreSQL's postmaster, whose CPU is the database's share of a request
    db_pid: int | None = None

    def api(self) -> httpx.Client:
        """A client of this server acting as the signed-in (admin) user."""
        assert self.account is not None
        return httpx.Client(base_url=self.url, timeout=30, headers=self.account.bearer)


@dataclass
class Result:
    case: str
    server: str
    concurrency: int
    requests: int
    seconds: float
    errors: dict[str, int]
    latencies_ms: list[float]
    #: the server's whole process tree (a supervisor and its workers)
    server_cores: float | None
    #: the workers' main threads alone: their event loops, without argon2's pool
    loop_cores: float | None
    load_cores: float | None
    #: PostgreSQL's processes, when the server uses it
    db_cores: float | None = None
    #: what nobody on the machine used: above ~0.3 the server did not saturate
    idle_cores: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 0.50)

    @property
    def p99_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 0.99)

    @property
    def tail(self) -> float | None:
        """p99 over p50."""
        if self.p50_ms is None or self.p99_ms is None or not self.p50_ms:
            return None
        return self.p99_ms / self.p50_ms

    def merged(self, later: "Result") -> "Result":
        """This case's figures over both its slices: counts add up, CPU cores
        are averaged over the measured time."""
        seconds = self.seconds + later.seconds

        def cores(mine: float | None, theirs: float | None) -> float | None:
            if mine is None or theirs is None or seconds <= 0:
                return None
            return (mine * self.seconds + theirs * later.seconds) / seconds

        errors = dict(self.errors)
        for error, count in later.errors.items():
            errors[error] = errors.get(error, 0) + count
        return dataclasses.replace(
            self,
            requests=self.requests + later.requests,
            seconds=seconds,
            errors=errors,
            latencies_ms=self.latencies_ms + later.latencies_ms,
            server_cores=cores(self.server_cores, later.server_cores),
            loop_cores=cores(self.loop_cores, later.loop_cores),
            load_cores=cores(self.load_cores, later.load_cores),
            db_cores=cores(self.db_cores, later.db_cores),
            idle_cores=cores(self.idle_cores, later.idle_cores),
        )

    @property
    def cost_ms(self) -> float | None:
        """CPU per operation (ms) of the processes doing the work: the server,
        or for a baseline (``argon2_raw``, ``pyjwt_verify``) its own process.
        It holds whoever was the bottleneck."""
        cores = self.load_cores if self.server == "-" else self.server_cores
        return self._per_op(cores)

    @property
    def loop_cost_ms(self) -> float | None:
        """CPU per operation (ms) of the server's event loop threads."""
        return self._per_op(self.loop_cores)

    def _per_op(self, cores: float | None) -> float | None:
        if cores is None or not self.rate:
            return None
        return cores / self.rate * 1000


@dataclass
class Bench:
    options: Options
    workdir: Path
    servers: dict[str, Server] = field(default_factory=dict)
    #: by (case, server label); a baseline's label is "-"
    results: dict[tuple[str, str], Result] = field(default_factory=dict)
    #: seconds from a logout on one instance until another refuses its JWT
    revocations: list[float] = field(default_factory=list)
    #: 1-minute load average before and after the run: other work on the
    #: machine takes cores from the server and the generator alike.
    load: list[float] = field(default_factory=list)
    cluster: Cluster | None = None


# -- Servers ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """The caller's environment without its AUTHGATE_* (a database URL,
    Redis…), which must not leak into a measured server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}


@contextmanager
def _process(
    command: list[str], env: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def postgres(bench: Bench) -> Cluster:
    """The run's PostgreSQL cluster, started on first use."""
    if bench.cluster is None:
        cluster = Cluster()
        if cluster.start() is None:
            raise RuntimeError("PostgreSQL is not installed (no initdb found)")
        bench.cluster = cluster
    return bench.cluster


@contextmanager
def server(
    bench: Bench,
    label: str,
    config: Config = SQLITE,
    *,
    database_url: str | None = None,
    sign_in: bool = True,
    **overrides: Any,
) -> Iterator[Server]:
    """``authgate serve`` in a subprocess, as ``config`` runs it, with one
    registered user signed in. On PostgreSQL it gets a new database of the
    run's cluster, or ``database_url`` (a second instance on the same one)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "public_url": url,
        "data_dir": bench.workdir / label,
        "secret_key": SECRET,
        "rate_limit_enabled": False,
        "log_level": "WARNING",  # no access log: the app is measured, not logging
        **overrides,
    }
    db_pid = None
    if config.postgres:
        cluster = postgres(bench)
        settings["database_url"] = database_url or cluster.empty()
        db_pid = cluster.postmaster_pid()
    env = _clean_env()
    env.update({f"AUTHGATE_{k.upper()}": str(v) for k, v in settings.items()})
    env["AUTHGATE_WORKERS"] = str(config.workers)
    command = [sys.executable, "-m", "authgate", "serve"]
    with _process(command, env, bench.workdir) as process:
        _wait_ready(url, process)
        running = Server(label, url, process.pid, settings, db_pid=db_pid)
        if sign_in:
            running.account = _sign_in(url, register=database_url is None)
        yield running


@contextmanager
def bare_server(bench: Bench, label: str, config: Config) -> Iterator[Server]:
    """``benchmarks/bare_app.py`` on uvicorn as Authgate runs (uvloop,
    httptools, no server header, no access log), with ``config``'s workers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bare_app:app"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(config.workers), "--loop", "uvloop", "--http", "httptools"),
        *("--log-level", "warning", "--no-access-log", "--no-server-header"),
    ]
    with _process(command, _clean_env(), bench.workdir) as process:
        _wait_ready(url, process)
        yield Server(label, url, process.pid, {})


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start within 60 s")


def _sign_in(url: str, register: bool = True) -> Account:
    """Register the first user (no invite needed) and sign in once."""
    with httpx.Client(base_url=url, timeout=30) as http:
        body = {"username": USERNAME, "password": PASSWORD}
        if register:
            http.post("/api/v1/auth/register", json=body).raise_for_status()
        response = http.post("/api/v1/auth/login", json=body)
        response.raise_for_status()
    token = response.json()["access_token"]
    claims = _unverified_claims(token)
    return Account(token, claims["sub"], claims["sid"])


def _unverified_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    return dict(json.loads(base64.urlsafe_b64decode(padded)))


def mint_access_tokens(
    running: Server, count: int, audience: str | None = None
) -> list[str]:
    """``count`` fresh access tokens for the signed-in user and session, signed
    in-process with the server's own key ring (read from its database), for
    ``audience`` (default: the server's API)."""
    from authgate.app import build_services
    from authgate.config import Settings
    from authgate.domain.jwt import issue_access_token

    assert running.account is not None
    account = running.account
    settings = Settings(_env_file=None, **running.settings)
    services = build_services(settings)

    async def load_ring() -> None:
        await services.keys.load()
        await services.db.close()

    asyncio.run(load_ring())
    return [
        issue_access_token(
            services.keys.ring,
            issuer=settings.issuer,
            subject=account.user_id,
            audience=audience or settings.api_resource,
            client_id="authgate",  # first-party, as a login's own tokens are
            scope="read write",
            ttl=settings.jwt_expiry,
            session_id=account.session_id,
        ).token
        for _ in range(count)
    ]


# -- The load generator (a separate process) ----------------------------------


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "load.py")],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
        timeout=spec["warmup"] + spec["duration"] + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


def measure(
    bench: Bench,
    case: str,
    running: Server,
    method: str,
    path: str,
    *,
    headers: list[dict[str, str]] | None = None,
    body: Any = None,
    bodies: list[Any] | None = None,
    form: bool = False,
    chain: str | None = None,
    once: bool = False,
    concurrency: int | None = None,
    duration: float | None = None,
    label: str | None = None,
) -> Result:
    """One slice of a case. With ``chain``, the bodies each worker ended
    with are kept in ``running.made[case]``, for the next slice to go on from.
    ``label``: the server label to file the result under (default: the
    server's)."""
    options = bench.options
    concurrency = concurrency or options.light_concurrency
    raw = run_load(
        {
            "mode": "http",
            "url": running.url,
            "method": method,
            "path": path,
            "json": body,
            "bodies": bodies,
            "form": form,
            "chain": chain,
            "headers": headers or [{}],
            "once": once,
            "concurrency": concurrency,
            "warmup": options.warmup,
            "duration": duration or options.slice,
            "server_pid": running.pid,
            "db_pid": running.db_pid,
            "client": options.client,
        }
    )
    last = raw.pop("bodies", None)
    if chain:
        running.made[case] = last
    return Result(
        case=case, server=label or running.label, concurrency=concurrency, **raw
    )


# -- Baselines ------------------------------------------------------------------


def argon2_raw(bench: Bench) -> Result:
    """argon2id verify at the server's parameters, one thread per core, no server."""
    options = bench.options
    raw = run_load(
        {
            "mode": "argon2",
            "threads": CORES,
            "warmup": options.warmup,
            "duration": options.login_slice,
            **ARGON2,
        }
    )
    return Result(case="argon2_raw", server="-", concurrency=CORES, **raw)


def pyjwt_verify(bench: Bench) -> Result:
    """PyJWT's own ES256 verification of an access token Authgate issued, with
    its public key, audience and issuer, on one thread."""
    signed_in = [s for s in bench.servers.values() if s.account is not None]
    if not signed_in:
        raise RuntimeError("pyjwt_verify verifies a server's token: select a case too")
    running = signed_in[0]
    assert running.account is not None
    token = running.account.access_token
    claims = _unverified_claims(token)
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
    keys = httpx.get(f"{running.url}/oauth/jwks").json()["keys"]
    options = bench.options
    raw = run_load(
        {
            "mode": "pyjwt",
            "token": token,
            "jwk": next(key for key in keys if key["kid"] == kid),
            "audience": claims["aud"],
            "issuer": claims["iss"],
            "warmup": options.warmup,
            "duration": options.slice,
        }
    )
    return Result(case="pyjwt_verify", server="-", concurrency=1, **raw)


# -- Cases: one function each, run on each configuration -----------------------


def login(bench: Bench, config: Config) -> Result:
    return measure(
        bench,
        "login",
        bench.servers[f"authgate@{config.label}"],
        "POST",
        "/api/v1/auth/login",
        body={"username": USERNAME, "password": PASSWORD},
        concurrency=bench.options.login_concurrency,
        duration=bench.options.login_slice,
    )


def bare_healthz(bench: Bench, config: Config) -> Result:
    """A bare Starlette app's ``/healthz``, filed under ``config``."""
    running = bench.servers[f"bare@{config.label}"]
    return measure(
        bench, "bare_healthz", running, "GET", "/healthz", label=config.label
    )


def healthz(bench: Bench, config: Config) -> Result:
    running = bench.servers[f"authgate@{config.label}"]
    return measure(bench, "healthz", running, "GET", "/healthz")


def healthz_jwt(bench: Bench, config: Config) -> Result:
    """``/healthz`` sent the signed-in account's access token, the same each
    time: the guard resolves it (from its cache after the first request), the
    endpoint ignores it. Authentication's own cost."""
    running = bench.servers[f"authgate@{config.label}"]
    assert running.account is not None
    headers = [running.account.bearer]
    return measure(bench, "healthz_jwt", running, "GET", "/healthz", headers=headers)


def healthz_pat(bench: Bench, config: Config) -> Result:
    return _healthz_with(bench, "healthz_pat", f"authgate@{config.label}", "pat")


def healthz_key(bench: Bench, config: Config) -> Result:
    return _healthz_with(bench, "healthz_key", f"authgate@{config.label}", "key")


def _healthz_with(bench: Bench, case: str, name: str, kind: str) -> Result:
    running = bench.servers[name]
    headers = [_bearer(_credential(running, kind))]
    return measure(bench, case, running, "GET", "/healthz", headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _credential(running: Server, kind: str) -> str:
    """A personal access token (``pat``) or an API key (``key``, in an
    organization of its own) of the signed-in user, made once per server."""
    if kind not in running.made:
        with running.api() as http:
            if kind == "pat":
                made = http.post(
                    "/api/v1/access-tokens",
                    json={"name": "bench", "expires_in_days": 30},
                )
            else:
                org = http.post("/api/v1/orgs", json={"name": "Bench"})
                org.raise_for_status()
                made = http.post(
                    "/api/v1/api-keys",
                    json={"name": "bench", "permission": "read"},
                    headers={"X-Organization-Id": org.json()["id"]},
                )
            made.raise_for_status()
        running.made[kind] = made.json()["token"]
    return str(running.made[kind])


def healthz_jwt_cold(bench: Bench, config: Config) -> Result:
    return _jwt_cold(bench, "healthz_jwt_cold", f"authgate@{config.label}")


def _jwt_cold(bench: Bench, case: str, name: str) -> Result:
    """``/healthz`` sent an access token never seen before on every request:
    its signature, its claims and whatever the server checks beyond them (the
    verification cache cannot help)."""
    running = bench.servers[name]
    options = bench.options
    # Enough for ~3000 req/s; the case stops early, measuring up to its last
    # request, if they run out.
    tokens = mint_access_tokens(running, int(3000 * (options.warmup + options.slice)))
    headers = [_bearer(t) for t in tokens]
    return measure(bench, case, running, "GET", "/healthz", headers=headers, once=True)


def _confidential_client(running: Server) -> dict[str, str]:
    """HTTP Basic authentication of a confidential client allowed the
    client_credentials grant, made once per server."""
    if "client" not in running.made:
        with running.api() as http:
            made = http.post(
                "/api/v1/admin/clients",
                json={"name": "bench-service", "grant_types": ["client_credentials"]},
            )
            made.raise_for_status()
        client = made.json()
        basic = base64.b64encode(
            f"{client['client_id']}:{client['client_secret']}".encode()
        ).decode()
        running.made["client"] = {"Authorization": f"Basic {basic}"}
    return dict(running.made["client"])


def client_credentials(bench: Bench, config: Config) -> Result:
    """``POST /oauth/token`` with ``grant_type=client_credentials`` and HTTP
    Basic client authentication: a signed JWT for every request."""
    running = bench.servers[f"authgate@{config.label}"]
    return measure(
        bench,
        "client_credentials",
        running,
        "POST",
        "/oauth/token",
        headers=[_confidential_client(running)],
        body={"grant_type": "client_credentials", "scope": "read"},
        form=True,
    )


def refresh_api(bench: Bench, config: Config) -> Result:
    """``POST /api/v1/auth/refresh`` with a JSON body: each connection spends
    its refresh token (from a login of its own) and sends the rotated one it
    got back, turn after turn."""
    running = bench.servers[f"authgate@{config.label}"]
    bodies = running.made.get("refresh_api")
    if bodies is None:
        with httpx.Client(base_url=running.url, timeout=30) as http:
            signed_in = [
                http.post(
                    "/api/v1/auth/login",
                    json={"username": USERNAME, "password": PASSWORD},
                )
                for _ in range(bench.options.light_concurrency)
            ]
        bodies = [{"refresh_token": r.json()["refresh_token"]} for r in signed_in]
    return measure(
        bench,
        "refresh_api",
        running,
        "POST",
        "/api/v1/auth/refresh",
        bodies=bodies,
        chain="refresh_token",
    )


def refresh_oauth(bench: Bench, config: Config) -> Result:
    """``POST /oauth/token`` with ``grant_type=refresh_token``: each connection
    spends its refresh token and sends the rotated one it got back (a public
    client, as the CLI is)."""
    running = bench.servers[f"authgate@{config.label}"]
    bodies = running.made.get("refresh_oauth")
    if bodies is None:
        count = bench.options.light_concurrency
        client_id, refresh_tokens = _oauth_refresh_tokens(running, count)
        bodies = [
            {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": t}
            for t in refresh_tokens
        ]
    return measure(
        bench,
        "refresh_oauth",
        running,
        "POST",
        "/oauth/token",
        bodies=bodies,
        form=True,
        chain="refresh_token",
    )


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _oauth_refresh_tokens(running: Server, count: int) -> tuple[str, list[str]]:
    """A public client and ``count`` refresh tokens of it, each from its own
    authorization code + PKCE flow (the consent approved once, then
    remembered), as a browser and the CLI would get them."""
    redirect_uri = "http://127.0.0.1:9/callback"
    with running.api() as admin:
        made = admin.post(
            "/api/v1/admin/clients",
            json={"name": "bench-cli", "public": True, "redirect_uris": [redirect_uri]},
        )
        made.raise_for_status()
    client_id = made.json()["client_id"]
    tokens = []
    with httpx.Client(base_url=running.url, timeout=30) as browser:
        browser.post(
            "/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD}
        ).raise_for_status()
        for _ in range(count):
            verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()
            )
            params = {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "read write",
                "state": "bench",
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
            answer = browser.get("/oauth/authorize", params=params)
            if answer.status_code == 200:  # the consent page, the first time
                fields = [
                    (n, html.unescape(v)) for n, v in _HIDDEN.findall(answer.text)
                ]
                answer = browser.post(
                    "/oauth/authorize",
                    content=urlencode([*fields, ("decision", "approve")]),
                    headers={
                        "Origin": running.url,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            issued = browser.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": client_id,
                    "code_verifier": verifier,
                },
            )
            issued.raise_for_status()
            tokens.append(issued.json()["refresh_token"])
    return client_id, tokens


def introspect_pat(bench: Bench, config: Config) -> Result:
    return _introspect(bench, "introspect_pat", f"authgate@{config.label}")


def _introspect(bench: Bench, case: str, name: str) -> Result:
    """``POST /oauth/introspect`` of a personal access token by a confidential
    client (HTTP Basic), as a resource server asks (RFC 7662)."""
    running = bench.servers[name]
    return measure(
        bench,
        case,
        running,
        "POST",
        "/oauth/introspect",
        headers=[_confidential_client(running)],
        body={"token": _credential(running, "pat")},
        form=True,
    )


def revocation(bench: Bench, config: Config) -> None:
    """A few logouts on one instance, each timed until a second instance on
    the same database refuses the session's JWT it had cached. Every request
    to the second instance opens a new connection, so with workers any of
    them may answer; it counts as refused once four in a row are."""
    first = bench.servers[f"authgate@{config.label}"]
    second = bench.servers[f"peer@{config.label}"]
    me = f"{second.url}/api/v1/me"
    with httpx.Client(base_url=first.url, timeout=30) as http:
        for _ in range(bench.options.revocations):
            body = {"username": USERNAME, "password": PASSWORD}
            signed_in = http.post("/api/v1/auth/login", json=body)
            signed_in.raise_for_status()
            headers = _bearer(signed_in.json()["access_token"])
            for _ in range(4):  # cached on the second instance, on any worker
                httpx.get(me, headers=headers).raise_for_status()
            http.post("/api/v1/auth/logout", headers=headers).raise_for_status()
            revoked = time.perf_counter()
            refused_since, streak = revoked, 0
            while streak < 4 and time.perf_counter() - revoked < 10:
                status = httpx.get(me, headers=headers).status_code
                if status == 401:
                    refused_since = refused_since if streak else time.perf_counter()
                    streak += 1
                else:
                    streak = 0
                    time.sleep(0.002)
            bench.revocations.append(
                refused_since - revoked if streak >= 4 else float("inf")
            )


# -- At scale: 1k against 1M users and tokens in PostgreSQL (--scale) ----------

#: server name → rows per table; each is a PostgreSQL server of its own
#: database, with the verification cache off so every request verifies.
SCALES = {"scale_1k": 1_000, "scale_1m": 1_000_000}

#: One ``INSERT … SELECT generate_series`` per table: users, one session and
#: one personal access token each, never used by the measured requests.
FILL = (
    """INSERT INTO users (id, username, email, password_hash, is_admin, created_at)
    SELECT 'usr_fill' || g, 'fill' || g, 'fill' || g || '@example.com', NULL,
           false, now()
    FROM generate_series(1, $1) AS g""",
    """INSERT INTO sessions (id, user_id, token_hash, created_at, last_active_at,
                             expires_at, device)
    SELECT 'ses_fill' || g, 'usr_fill' || g,
           encode(sha256(('session' || g)::bytea), 'hex'), now(), now(),
           now() + interval '1 day', 'bench'
    FROM generate_series(1, $1) AS g""",
    """INSERT INTO credentials (id, kind, token_hash, user_id, name,
                                display_prefix, scopes, created_at)
    SELECT 'pat_fill' || g, 'pat', encode(sha256(('pat' || g)::bytea), 'hex'),
           'usr_fill' || g, 'fill', 'ag_pat_fill', '["read"]', now()
    FROM generate_series(1, $1) AS g""",
)


def fill(database_url: str, rows: int) -> None:
    """``rows`` users and tokens more, straight in SQL, then fresh planner
    statistics."""
    import asyncpg

    async def run() -> None:
        dsn = database_url.replace("postgresql+asyncpg", "postgresql")
        connection = await asyncpg.connect(dsn)
        try:
            for statement in FILL:
                await connection.execute(statement, rows)
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    asyncio.run(run())


@contextmanager
def scale_server(bench: Bench, name: str, config: Config) -> Iterator[Server]:
    label = name.split("@")[0]
    with server(bench, name, config, token_cache_size=0) as running:
        print(f"  … filling {label}", file=sys.stderr, flush=True)
        fill(running.settings["database_url"], SCALES[label])
        yield dataclasses.replace(running, label=label)


def _scale_cases(label: str) -> list["Case"]:
    name = f"{label}@{PG.label}"

    def pat(bench: Bench, _config: Config) -> Result:
        return _healthz_with(bench, f"{label}_pat", name, "pat")

    def jwt_cold(bench: Bench, _config: Config) -> Result:
        return _jwt_cold(bench, f"{label}_jwt_cold", name)

    def introspect(bench: Bench, _config: Config) -> Result:
        return _introspect(bench, f"{label}_introspect", name)

    return [
        Case(f"{label}_pat", pat, (label,), (PG,), scale=True),
        Case(f"{label}_jwt_cold", jwt_cold, (label,), (PG,), scale=True),
        Case(f"{label}_introspect", introspect, (label,), (PG,), scale=True),
    ]


# -- What runs ------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A case, the servers it needs (by role) and the configurations it runs
    on; a baseline (no ``configs``) runs once per round."""

    name: str
    run: Callable[[Bench, Config], Result | None]
    servers: tuple[str, ...] = ("authgate",)
    configs: tuple[Config, ...] = CONFIGS
    scale: bool = False


def _baseline(run: Callable[[Bench], Result]) -> Callable[[Bench, Config], Result]:
    return lambda bench, _config: run(bench)


CASES: list[Case] = [
    Case("argon2_raw", _baseline(argon2_raw), (), ()),
    Case("pyjwt_verify", _baseline(pyjwt_verify), (), ()),
    Case("login", login),
    Case("bare_healthz", bare_healthz, ("bare",)),
    Case("healthz", healthz),
    Case("healthz_jwt", healthz_jwt),
    Case("healthz_pat", healthz_pat),
    Case("healthz_key", healthz_key),
    Case("healthz_jwt_cold", healthz_jwt_cold),
    Case("client_credentials", client_credentials),
    Case("refresh_api", refresh_api),
    Case("refresh_oauth", refresh_oauth),
    Case("introspect_pat", introspect_pat),
    Case("revocation", revocation, ("authgate", "peer"), (PG,)),
    *_scale_cases("scale_1k"),
    *_scale_cases("scale_1m"),
]

#: cases that run once for every configuration (the baselines)
BASELINES = {"argon2_raw", "pyjwt_verify"}


@contextmanager
def start(bench: Bench, role: str, config: Config) -> Iterator[Server]:
    """The server ``role`` of ``config``, filed as ``role@label``."""
    name = f"{role}@{config.label}"
    if role == "authgate":
        with server(bench, name, config) as running:
            yield dataclasses.replace(running, label=config.label)
    elif role == "bare":
        with bare_server(bench, name, config) as running:
            yield running
    elif role == "peer":
        first = bench.servers[f"authgate@{config.label}"]
        url = first.settings["database_url"]
        with server(bench, name, config, database_url=url) as running:
            yield running
    else:
        with scale_server(bench, name, config) as running:
            yield running


# -- Running and printing ------------------------------------------------------


def run(
    bench: Bench, only: set[str] | None, configs: tuple[Config, ...] = CONFIGS
) -> None:
    """Every selected case once per round, in ``CASES`` order, on each
    configuration in turn; every server up for the whole run (an idle one
    costs nothing)."""
    selected = [
        case
        for case in CASES
        if (not only or case.name in only)
        and (bench.options.scale or not case.scale)
        and (not case.configs or any(c in configs for c in case.configs))
    ]
    needed: list[tuple[str, Config]] = []
    for case in selected:
        for config in case.configs:
            for role in case.servers:
                if config in configs and (role, config) not in needed:
                    needed.append((role, config))
    # a second instance starts on the first one's database
    needed.sort(key=lambda pair: pair[0] == "peer")
    try:
        with ExitStack() as servers:
            for role, config in needed:
                print(f"  … starting {role} ({config.title})", file=sys.stderr)
                bench.servers[f"{role}@{config.label}"] = servers.enter_context(
                    start(bench, role, config)
                )
            for round_ in range(1, bench.options.rounds + 1):
                for case in selected:
                    for on in case.configs or (None,):
                        if on is None or on in configs:
                            _record(bench, case, on, round_)
            bench.servers.clear()
    finally:
        if bench.cluster is not None:
            bench.cluster.stop()


def _record(bench: Bench, case: Case, config: Config | None, round_: int) -> None:
    rounds = bench.options.rounds
    where = f" on {config.label}" if config and case.name not in BASELINES else ""
    print(f"  … {case.name}{where} ({round_}/{rounds})", file=sys.stderr, flush=True)
    result = case.run(bench, config or SQLITE)
    if result is not None:
        keep(bench, result)


def keep(bench: Bench, result: Result) -> None:
    """Add one slice of a case to its figures so far."""
    key = (result.case, result.server)
    earlier = bench.results.get(key)
    bench.results[key] = earlier.merged(result) if earlier else result


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


CLIENTS = {
    "httpx": "httpx.AsyncClient (one keep-alive connection per worker)",
    "raw": "a minimal asyncio HTTP/1.1 keep-alive client (benchmarks/load.py RawHttp)",
}


@dataclass(frozen=True)
class Ratio:
    name: str
    numerator: str
    denominator: str
    goal: float | None = None


def cases_table(bench: Bench) -> list[str]:
    """Every case's own figures, with its unexpected answers and a word when
    the machine had cores to spare (the server was not the bottleneck)."""
    header = (
        f"{'case':<22}{'server':<9}{'conc':>5}{'requests':>9}{'req/s':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'p99/p50':>8}{'CPU ms/op':>10}"
        f"{'loop ms/op':>11}{'srv cores':>10}{'db cores':>9}{'load cores':>11}"
    )
    lines = [header, "-" * len(header)]
    for result in bench.results.values():
        lines.append(
            f"{result.case:<22}{result.server:<9}{result.concurrency:>5}"
            f"{result.requests:>9}{result.rate:>9.1f}"
            f"{_fmt(result.p50_ms, '.1f'):>8}{_fmt(result.p99_ms, '.1f'):>8}"
            f"{_fmt(result.tail, '.1f'):>8}"
            f"{_fmt(result.cost_ms, '.3f'):>10}"
            f"{_fmt(result.loop_cost_ms, '.3f'):>11}"
            f"{_fmt(result.server_cores, '.2f'):>10}"
            f"{_fmt(result.db_cores, '.2f'):>9}"
            f"{_fmt(result.load_cores, '.2f'):>11}"
        )
        for error, count in result.errors.items():
            lines.append(f"    !! {count} x unexpected answer: {error}")
        if result.server != "-" and (result.idle_cores or 0) > 0.3:
            lines.append(
                f"    ~ not saturated: {result.idle_cores:.2f} cores idle on the "
                "machine while it ran"
            )
    return lines


def report(bench: Bench, ratios: list[Ratio]) -> str:
    """The header, every case, and ``ratios`` (each on every server label that
    has both its cases, or whose denominator is a baseline)."""
    lines = [*_header(bench), *cases_table(bench)]
    lines += [
        "",
        f"{'ratio':<44}{'server':<9}{'req/s':>7}{'CPU':>7}   goal (on req/s)",
        "-" * 85,
    ]
    labels = list(dict.fromkeys(label for _, label in bench.results))
    for ratio in ratios:
        for label in labels:
            top = bench.results.get((ratio.numerator, label))
            bottom = bench.results.get((ratio.denominator, label)) or (
                bench.results.get((ratio.denominator, "-"))
            )
            if top is None or bottom is None or not bottom.rate:
                continue
            value = top.rate / bottom.rate
            goal = ""
            if ratio.goal is not None:
                verdict = "met" if value >= ratio.goal else "NOT met"
                goal = f"   >= {ratio.goal:g}: {verdict}"
            by_cpu = _fmt(_cpu_ratio(top, bottom), ".2f")
            lines.append(f"{ratio.name:<44}{label:<9}{value:>7.2f}{by_cpu:>7}{goal}")
    lines += ["", *_legend()]
    return "\n".join(lines)


def _cpu_ratio(top: Result, bottom: Result) -> float | None:
    """The CPU per operation divided the other way up: the throughput ratio
    if the server had the cores to itself."""
    if not top.cost_ms or not bottom.cost_ms:
        return None
    return bottom.cost_ms / top.cost_ms


def _header(bench: Bench) -> list[str]:
    options = bench.options
    configs = ", ".join(
        f"{c.label} = {c.title}"
        for c in CONFIGS
        if any(c.label == s for _, s in bench.results)
    )
    return [
        f"Authgate benchmarks — {datetime.date.today().isoformat()}, "
        f"{CORES} cores, Python {platform.python_version()}, {platform.machine()}",
        f"Servers: `authgate serve` in a subprocess ({configs or 'one process'}); "
        "argon2id t=2 m=19456 KiB p=1, rate limits off, log level WARNING; "
        "a bare Starlette app on the same uvicorn and worker count beside each.",
        f"Load: {CLIENTS[options.client]}, in a separate process sharing the "
        f"{CORES} cores with the servers. Each case runs {options.duration:g} s "
        f"({options.login_duration:g} s for login and argon2_raw) in "
        f"{options.rounds} turns, the cases taking turns, each turn after a "
        f"{options.warmup:g} s warm-up.",
        _load_line(bench),
        "",
    ]


def _legend() -> list[str]:
    return [
        "conc: concurrent connections (threads for argon2_raw). CPU ms/op: CPU "
        "per request of the server's whole process tree (for a baseline, of its "
        "own process). loop ms/op: the part of it on the workers' event loop "
        "threads. srv/db/load cores: CPU the server, PostgreSQL and the "
        "generator used over the window (1.00 = one core busy).",
        "Ratio 'req/s' divides throughputs; 'CPU' divides the CPU per operation "
        "the other way up: the ratio if the server had the cores to itself, "
        "which holds even when the load generator is the bottleneck.",
    ]


def _load_line(bench: Bench) -> str:
    if len(bench.load) < 2:
        return ""
    before, after = bench.load[0], bench.load[-1]
    line = (
        f"Machine load average (1 min): {before:.2f} before the run, {after:.2f} "
        "at its end (this benchmark's own load included)."
    )
    if before > 0.5:
        line += " Other work was running: figures are noisy; rerun on a quiet machine."
    return line


# -- The goal table (issue #17) ----------------------------------------------


@dataclass(frozen=True)
class Figure:
    text: str
    #: None when the goal does not apply or a side is missing
    met: bool | None = None


@dataclass(frozen=True)
class Goal:
    what: str
    goal: str
    figure: Callable[[Bench, str], Figure | None]


def _result(bench: Bench, case: str, label: str) -> Result | None:
    return bench.results.get((case, label)) or bench.results.get((case, "-"))


def _over(
    bench: Bench, label: str, top: str, bottom: str, at_least: float | None
) -> Figure | None:
    """A ratio of throughputs, with its CPU ratio in brackets."""
    high, low = _result(bench, top, label), _result(bench, bottom, label)
    if high is None or low is None or not low.rate:
        return None
    value = high.rate / low.rate
    met = None if at_least is None else value >= at_least
    return Figure(f"{value:.2f} (CPU {_fmt(_cpu_ratio(high, low), '.2f')})", met)


def _several(figures: list[Figure | None]) -> Figure | None:
    present = [f for f in figures if f is not None]
    if not present:
        return None
    verdicts = [f.met for f in present if f.met is not None]
    return Figure(
        " / ".join(f.text for f in present), all(verdicts) if verdicts else None
    )


def _bare(bench: Bench, label: str) -> Figure | None:
    return _over(bench, label, "healthz", "bare_healthz", 0.6)


def _cached(bench: Bench, label: str) -> Figure | None:
    cases = ("healthz_jwt", "healthz_pat", "healthz_key")
    return _several([_over(bench, label, c, "healthz", 0.9) for c in cases])


def _cold_jwt(bench: Bench, label: str) -> Figure | None:
    cold, plain = (
        _result(bench, "healthz_jwt_cold", label),
        _result(bench, "healthz", label),
    )
    verify = _result(bench, "pyjwt_verify", label)
    if cold is None or plain is None or verify is None:
        return None
    if not (cold.cost_ms and plain.cost_ms and verify.cost_ms):
        return None
    above = cold.cost_ms - plain.cost_ms
    times = above / verify.cost_ms
    return Figure(
        f"{times:.1f}x ({above * 1000:.0f} us above /healthz; PyJWT "
        f"{verify.cost_ms * 1000:.0f} us)",
        times <= 1.3,
    )


def _rate(bench: Bench, label: str, case: str, at_least: float) -> Figure | None:
    result = _result(bench, case, label)
    if result is None:
        return None
    return Figure(f"{result.rate:,.0f}/s", result.rate >= at_least)


def _client_credentials(bench: Bench, label: str) -> Figure | None:
    return _rate(bench, label, "client_credentials", 1000)


def _refresh(bench: Bench, label: str) -> Figure | None:
    return _several(
        [_rate(bench, label, c, 600) for c in ("refresh_api", "refresh_oauth")]
    )


def _introspection(bench: Bench, label: str) -> Figure | None:
    result = _result(bench, "introspect_pat", label)
    if result is None or not result.server_cores:
        return None
    per_core = result.rate / result.server_cores
    return Figure(
        f"{result.rate:,.0f}/s, {per_core:,.0f}/s per server core", per_core >= 2550
    )


def _login(bench: Bench, label: str) -> Figure | None:
    return _over(bench, label, "login", "argon2_raw", 0.9)


def _tails(bench: Bench, label: str) -> Figure | None:
    """The worst p99 over p50 of the cases at 64 connections."""
    tails = [
        (r.tail, r.case)
        for (_, server), r in bench.results.items()
        if server == label and r.tail is not None and r.concurrency >= 64
    ]
    if not tails:
        return None
    worst, case = max(tails)
    best, _ = min(tails)
    return Figure(f"{best:.1f}-{worst:.1f} (worst: {case})", worst <= 3)


def _scale(bench: Bench, label: str) -> Figure | None:
    """CPU per verification with 1M rows over the same with 1k."""
    figures = []
    for case in ("pat", "jwt_cold", "introspect"):
        small = _result(bench, f"scale_1k_{case}", "scale_1k")
        large = _result(bench, f"scale_1m_{case}", "scale_1m")
        if label == PG.label and small and large and small.cost_ms and large.cost_ms:
            times = large.cost_ms / small.cost_ms
            figures.append(Figure(f"{case} {times:.2f}x", times <= 1.1))
    return _several(list(figures))


def _revocation(bench: Bench, label: str) -> Figure | None:
    if label != PG.label or not bench.revocations:
        return None
    samples = bench.revocations
    worst = max(samples)
    return Figure(
        f"median {statistics.median(samples):.3f} s, max {worst:.3f} s "
        f"({len(samples)} samples)",
        worst <= 1,
    )


GOALS = [
    Goal("/healthz over a bare Starlette app's", ">= 0.6", _bare),
    Goal("/healthz sent a cached JWT / PAT / API key over /healthz", ">= 0.9", _cached),
    Goal(
        "a JWT never seen before: CPU above /healthz over PyJWT", "<= 1.3x", _cold_jwt
    ),
    Goal("client_credentials grants", ">= 1,000/s", _client_credentials),
    Goal("refresh grants (/api/v1/auth/refresh / /oauth/token)", ">= 600/s", _refresh),
    Goal(
        "PAT introspection (/oauth/introspect)", ">= 2,550/s per core", _introspection
    ),
    Goal("login over raw argon2id", ">= 0.9", _login),
    Goal("p99 over p50 at 64 connections, every case", "<= 3", _tails),
    Goal("verification cost, 1M over 1k users and tokens", "<= 1.1x", _scale),
    Goal("a revocation on one instance refused by another", "<= 1 s", _revocation),
]


def goal_table(bench: Bench) -> list[str]:
    """Issue #17's table: the goal, then each configuration's figure."""
    labels = [c for c in CONFIGS if any(s == c.label for _, s in bench.results)]
    rows = [["what", "goal", *(c.title for c in labels)]]
    for goal in GOALS:
        cells = []
        for config in labels:
            figure = goal.figure(bench, config.label)
            if figure is None:
                cells.append("-")
            else:
                mark = {True: " ok", False: " NOT met", None: ""}[figure.met]
                cells.append(figure.text + mark)
        if any(cell != "-" for cell in cells):
            rows.append([goal.what, goal.goal, *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=Options.duration)
    parser.add_argument("--login-duration", type=float, default=Options.login_duration)
    parser.add_argument("--warmup", type=float, default=Options.warmup)
    parser.add_argument("--concurrency", type=int, default=Options.light_concurrency)
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default=Options.client,
        help="load generator HTTP client (default: raw)",
    )
    parser.add_argument(
        "--only", action="append", help="run only this case (repeatable)"
    )
    parser.add_argument(
        "--config",
        action="append",
        choices=[c.label for c in CONFIGS],
        help="run only this configuration (repeatable)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=Options.rounds,
        help="turns each case's time is split into",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also measure with 1k and 1M users and tokens in PostgreSQL",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short turns, one round: to check the harness, not to read figures",
    )
    args = parser.parse_args()
    options = Options(
        warmup=args.warmup,
        duration=args.duration,
        login_duration=args.login_duration,
        light_concurrency=args.concurrency,
        client=args.client,
        rounds=args.rounds,
        scale=args.scale,
    )
    if args.quick:
        options = dataclasses.replace(
            options,
            warmup=0.3,
            duration=1.0,
            login_duration=1.0,
            rounds=1,
            revocations=4,
        )
    configs = tuple(c for c in CONFIGS if not args.config or c.label in args.config)
    workdir = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    try:
        bench = Bench(options, workdir)
        bench.load.append(os.getloadavg()[0])
        run(bench, set(args.only) if args.only else None, configs)
        bench.load.append(os.getloadavg()[0])
        print("\n".join([*_header(bench), *goal_table(bench), ""]))
        print("\n".join([*cases_table(bench), "", *_legend()]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
