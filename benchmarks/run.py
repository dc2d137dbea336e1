"""Ratio benchmarks: figures measured side by side in one run, then divided.

Run with ``./dev bench`` (``.venv/bin/python benchmarks/run.py``). Every case is
one small function below, listed in ``CASES``; every ratio in ``RATIOS``. To add
one (PATs, API keys, OAuth grants…), write a function that prepares what it
sends and returns ``measure(...)``, then list it.

How it measures: each server is ``authgate serve`` (one uvicorn process, SQLite,
a temp data dir, default OWASP argon2 parameters, per-IP rate limits off) in a
subprocess on a free 127.0.0.1 port. The load comes from ``benchmarks/load.py``
in another subprocess: N concurrent keep-alive connections (a minimal HTTP/1.1
client by default, ``--client httpx`` for httpx) for a fixed time after a
warm-up. The baseline (raw argon2id verify, one thread per
core) runs in its own subprocess too, while no server is busy. Server CPU per
request is read from ``/proc`` over the measured window, so a case whose rate is
capped by the load generator still shows what the server spent.
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
CORES = os.cpu_count() or 1
SECRET = "benchmark-secret-key-0123456789abcdefghijkl"
USERNAME = "bench"
PASSWORD = "correct horse battery staple"
ARGON2 = {"time_cost": 2, "memory_kib": 19456}  #: Settings' defaults (OWASP)


@dataclass
class Options:
    warmup: float = 1.0
    duration: float = 6.0
    login_duration: float = 8.0
    light_concurrency: int = 16
    login_concurrency: int = 2 * CORES
    #: the minimal client: with httpx the light cases measure the generator
    client: str = "raw"
    #: Each case's time is split into this many slices, and the cases take
    #: turns slice by slice: a spell of slowness on a shared machine then
    #: falls on both sides of a ratio instead of on whichever case it hit.
    rounds: int = 3

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
    server_cores: float | None
    #: the server's main thread alone: its event loop, without the argon2 pool
    loop_cores: float | None
    load_cores: float | None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 0.50)

    @property
    def p99_ms(self) -> float | None:
        return _percentile(self.latencies_ms, 0.99)

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
        )

    @property
    def cost_ms(self) -> float | None:
        """CPU per operation (ms) of the process doing the work: the server, or
        for ``argon2_raw`` the hashing process itself. It holds whoever was the
        bottleneck."""
        cores = self.load_cores if self.server == "-" else self.server_cores
        return self._per_op(cores)

    @property
    def loop_cost_ms(self) -> float | None:
        """CPU per operation (ms) of the server's event loop thread."""
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
    results: dict[str, Result] = field(default_factory=dict)
    #: 1-minute load average before and after the run: other work on the
    #: machine takes cores from the server and the generator alike.
    load: list[float] = field(default_factory=list)


# -- Servers ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(bench: Bench, label: str, **overrides: Any) -> Iterator[Server]:
    """``authgate serve`` in a subprocess, with one registered user signed in."""
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
    # Only these settings: none of the caller's AUTHGATE_* (a database URL,
    # Redis…) leaks into the measured server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.update({f"AUTHGATE_{k.upper()}": str(v) for k, v in settings.items()})
    process = subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve"],
        env=env,
        cwd=bench.workdir,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_ready(url, process)
        running = Server(label, url, process.pid, settings)
        running.account = _sign_in(url)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def bare_server(bench: Bench) -> Iterator[Server]:
    """The baseline: ``benchmarks/bare.py``, a bare Starlette ``/healthz``."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "bare.py"), str(port)], cwd=bench.workdir
    )
    try:
        _wait_ready(url, process)
        yield Server("bare", url, process.pid, {})
    finally:
        process.terminate()
        process.wait()


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


def _sign_in(url: str) -> Account:
    """Register the first user (no invite needed) and sign in once."""
    with httpx.Client(base_url=url, timeout=30) as http:
        body = {"username": USERNAME, "password": PASSWORD}
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
) -> Result:
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
            "client": options.client,
        }
    )
    return Result(case=case, server=running.label, concurrency=concurrency, **raw)


# -- Cases: one function each -------------------------------------------------


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


def login(bench: Bench) -> Result:
    running = bench.servers["default"]
    return measure(
        bench,
        "login",
        running,
        "POST",
        "/api/v1/auth/login",
        body={"username": USERNAME, "password": PASSWORD},
        concurrency=bench.options.login_concurrency,
        duration=bench.options.login_slice,
    )


def healthz(bench: Bench) -> Result:
    return measure(bench, "healthz", bench.servers["default"], "GET", "/healthz")


def healthz_bare(bench: Bench) -> Result:
    return measure(bench, "healthz_bare", bench.servers["bare"], "GET", "/healthz")


def healthz_bearer(bench: Bench) -> Result:
    """``/healthz`` sent the cached bearer ``/me`` is sent: the guard resolves
    it, the endpoint ignores it. What any authenticated endpoint pays before
    its own work."""
    return _with_bearer(bench, "healthz_bearer", "default", "/healthz")


def me_jwt_cached(bench: Bench) -> Result:
    return _with_bearer(bench, "me_jwt", "default", "/api/v1/me")


def _with_bearer(bench: Bench, case: str, label: str, path: str) -> Result:
    """``GET path`` with the signed-in account's access token, the same each time."""
    running = bench.servers[label]
    assert running.account is not None
    return measure(bench, case, running, "GET", path, headers=[running.account.bearer])


def me_jwt_cold(bench: Bench) -> Result:
    """A token never seen before on every request: signature, claims and the
    session look-up each time (the verification cache cannot help)."""
    running = bench.servers["default"]
    options = bench.options
    # Enough for ~800 req/s (a cold verification costs a database read); the
    # case stops early, measuring up to its last request, if they run out.
    count = int(800 * (options.warmup + options.slice))
    tokens = mint_access_tokens(running, count)
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
    return measure(
        bench, "me_jwt_cold", running, "GET", "/api/v1/me", headers=headers, once=True
    )


def me_jwt_no_cache(bench: Bench) -> Result:
    """The same token every time, with ``AUTHGATE_TOKEN_CACHE_SIZE=0``."""
    return _with_bearer(bench, "me_jwt_no_cache", "no_cache", "/api/v1/me")


def healthz_no_cache(bench: Bench) -> Result:
    return measure(
        bench, "healthz_no_cache", bench.servers["no_cache"], "GET", "/healthz"
    )


def _credential(running: Server, kind: str) -> dict[str, str]:
    """The bearer header of a personal access token (``pat``) or an API key
    (``key``, in an organization of its own) of the signed-in user."""
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
        running.made[kind] = {"Authorization": f"Bearer {made.json()['token']}"}
    return dict(running.made[kind])


def _me_with(bench: Bench, case: str, label: str, kind: str) -> Result:
    running = bench.servers[label]
    headers = [_credential(running, kind)]
    return measure(bench, case, running, "GET", "/api/v1/me", headers=headers)


def me_pat(bench: Bench) -> Result:
    return _me_with(bench, "me_pat", "default", "pat")


def me_key(bench: Bench) -> Result:
    return _me_with(bench, "me_key", "default", "key")


def me_pat_no_cache(bench: Bench) -> Result:
    """Every request looks the token up by hash in the database."""
    return _me_with(bench, "me_pat_no_cache", "no_cache", "pat")


def me_key_no_cache(bench: Bench) -> Result:
    return _me_with(bench, "me_key_no_cache", "no_cache", "key")


def token_client_credentials(bench: Bench) -> Result:
    """``POST /oauth/token`` with ``grant_type=client_credentials`` and HTTP
    Basic client authentication: a signed JWT for every request."""
    running = bench.servers["default"]
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
    return measure(
        bench,
        "token_client_creds",
        running,
        "POST",
        "/oauth/token",
        headers=[{"Authorization": f"Basic {basic}"}],
        body={"grant_type": "client_credentials", "scope": "read"},
        form=True,
    )


def token_refresh(bench: Bench) -> Result:
    """``POST /oauth/token`` with ``grant_type=refresh_token``: each worker
    spends its refresh token and sends the rotated one it got back (a public
    client, as the CLI is)."""
    running = bench.servers["default"]
    concurrency = bench.options.light_concurrency
    client_id, refresh_tokens = _oauth_refresh_tokens(running, concurrency)
    bodies = [
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
        for token in refresh_tokens
    ]
    return measure(
        bench,
        "token_refresh",
        running,
        "POST",
        "/oauth/token",
        bodies=bodies,
        form=True,
        chain="refresh_token",
        concurrency=concurrency,
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


#: (server label, settings overrides): each group of cases runs with its server up.
SERVERS: dict[str, dict[str, Any]] = {
    "default": {},
    "no_cache": {"token_cache_size": 0},
}

#: (server label or None for no server, case)
CASES: list[tuple[str | None, Callable[[Bench], Result]]] = [
    (None, argon2_raw),
    ("default", login),
    ("default", healthz),
    ("bare", healthz_bare),
    ("default", healthz_bearer),
    ("default", me_jwt_cached),
    ("default", me_jwt_cold),
    ("default", me_pat),
    ("default", me_key),
    ("default", token_client_credentials),
    ("default", token_refresh),
    ("no_cache", healthz_no_cache),
    ("no_cache", me_jwt_no_cache),
    ("no_cache", me_pat_no_cache),
    ("no_cache", me_key_no_cache),
]


@dataclass(frozen=True)
class Ratio:
    name: str
    numerator: str
    denominator: str
    goal: float | None = None


RATIOS = [
    Ratio("login / raw argon2id", "login", "argon2_raw", 0.9),
    Ratio("/healthz / a bare Starlette app's", "healthz", "healthz_bare", 0.6),
    Ratio("/me (JWT, cached) / /healthz", "me_jwt", "healthz", 0.85),
    Ratio("/healthz with the cached JWT / /healthz", "healthz_bearer", "healthz"),
    Ratio("/me (JWT, new token each time) / /healthz", "me_jwt_cold", "healthz"),
    Ratio("/me (JWT, cache size 0) / /healthz", "me_jwt_no_cache", "healthz_no_cache"),
    Ratio("/me (PAT, cached) / /healthz", "me_pat", "healthz", 0.85),
    Ratio("/me (API key, cached) / /healthz", "me_key", "healthz", 0.85),
    Ratio("/me (PAT, cache size 0) / /healthz", "me_pat_no_cache", "healthz_no_cache"),
    Ratio(
        "/me (API key, cache size 0) / /healthz", "me_key_no_cache", "healthz_no_cache"
    ),
    Ratio("client_credentials grants / /healthz", "token_client_creds", "healthz"),
    Ratio("refresh_token grants / /healthz", "token_refresh", "healthz"),
]


# -- Running and printing ------------------------------------------------------


def run(bench: Bench, only: set[str] | None) -> None:
    """Every selected case once per round, in ``CASES`` order, each server up
    for the whole run (an idle one costs nothing)."""
    selected = [(s, c) for s, c in CASES if not only or c.__name__ in only]
    labels = sorted({label for label, _ in selected if label is not None})
    with ExitStack() as servers:
        for label in labels:
            running = (
                bare_server(bench)
                if label == "bare"
                else server(bench, label, **SERVERS[label])
            )
            bench.servers[label] = servers.enter_context(running)
        for round_ in range(1, bench.options.rounds + 1):
            for _, case in selected:
                _record(bench, case, round_)
        bench.servers.clear()


def _record(bench: Bench, case: Callable[[Bench], Result], round_: int) -> None:
    rounds = bench.options.rounds
    print(f"  … {case.__name__} ({round_}/{rounds})", file=sys.stderr, flush=True)
    keep(bench, case(bench))


def keep(bench: Bench, result: Result) -> None:
    """Add one slice of a case to its figures so far."""
    earlier = bench.results.get(result.case)
    bench.results[result.case] = earlier.merged(result) if earlier else result


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


def report(bench: Bench, ratios: list[Ratio] = RATIOS) -> str:
    options = bench.options
    lines = [
        f"Authgate ratio benchmarks — {datetime.date.today().isoformat()}, "
        f"{CORES} cores, Python {platform.python_version()}, {platform.machine()}",
        "Server: `authgate serve` (1 uvicorn process) in a subprocess, SQLite, "
        "argon2id t=2 m=19456 KiB p=1, rate limits off, log level WARNING.",
        f"Load: {CLIENTS[options.client]}, in a separate process sharing the "
        f"{CORES} cores with the server. Each case runs {options.duration:g} s "
        f"({options.login_duration:g} s for login and argon2_raw) in "
        f"{options.rounds} turns, the cases taking turns, each turn after a "
        f"{options.warmup:g} s warm-up.",
        _load_line(bench),
        "",
    ]
    header = (
        f"{'case':<19}{'server':<9}{'conc':>5}{'requests':>9}{'req/s':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'CPU ms/op':>10}{'loop ms/op':>11}"
        f"{'srv cores':>10}{'load cores':>11}"
    )
    lines += [header, "-" * len(header)]
    for result in bench.results.values():
        lines.append(
            f"{result.case:<19}{result.server:<9}{result.concurrency:>5}"
            f"{result.requests:>9}{result.rate:>9.1f}"
            f"{_fmt(result.p50_ms, '.1f'):>8}{_fmt(result.p99_ms, '.1f'):>8}"
            f"{_fmt(result.cost_ms, '.3f'):>10}"
            f"{_fmt(result.loop_cost_ms, '.3f'):>11}"
            f"{_fmt(result.server_cores, '.2f'):>10}"
            f"{_fmt(result.load_cores, '.2f'):>11}"
        )
        for error, count in result.errors.items():
            lines.append(f"    !! {count} x unexpected answer: {error}")
    lines += [
        "",
        f"{'ratio':<44}{'req/s':>7}{'CPU':>7}   goal (on req/s)",
        "-" * 76,
    ]
    for ratio in ratios:
        top = bench.results.get(ratio.numerator)
        bottom = bench.results.get(ratio.denominator)
        if top is None or bottom is None or not bottom.rate:
            continue
        value = top.rate / bottom.rate
        by_cpu = (
            bottom.cost_ms / top.cost_ms if top.cost_ms and bottom.cost_ms else None
        )
        goal = ""
        if ratio.goal is not None:
            verdict = "met" if value >= ratio.goal else "NOT met"
            goal = f"   >= {ratio.goal:g}: {verdict}"
        lines.append(f"{ratio.name:<44}{value:>7.2f}{_fmt(by_cpu, '.2f'):>7}{goal}")
    lines += [
        "",
        "conc: concurrent workers (threads for argon2_raw). CPU ms/op: CPU per "
        "request of the server process (for argon2_raw, of the hashing process, "
        "shown as its load cores). loop ms/op: the part of it spent on the "
        "server's event loop thread (the rest is argon2's threads). srv/load "
        "cores: CPU each process used over the window (1.00 = one core busy).",
        "Ratio 'req/s' divides throughputs; 'CPU' divides the CPU per operation "
        "the other way up: the ratio if the server had the cores to itself, "
        "which holds even when the load generator is the bottleneck.",
    ]
    return "\n".join(lines)


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
        "--rounds",
        type=int,
        default=Options.rounds,
        help="turns each case's time is split into",
    )
    args = parser.parse_args()
    options = Options(
        warmup=args.warmup,
        duration=args.duration,
        login_duration=args.login_duration,
        light_concurrency=args.concurrency,
        client=args.client,
        rounds=args.rounds,
    )
    workdir = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    try:
        bench = Bench(options, workdir)
        bench.load.append(os.getloadavg()[0])
        run(bench, set(args.only) if args.only else None)
        bench.load.append(os.getloadavg()[0])
        print(report(bench))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
