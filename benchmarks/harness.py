"""What every benchmark shares: the servers it starts (``authgate serve`` as
a configuration runs it, a bare Starlette app), the load generator it drives
(``benchmarks/load.py``, in a process of its own), the figures it keeps, and
the tables it prints. ``run.py`` (issue #17's goal table) and ``guard.py``
(the guard in a host app) are built on it.

Server CPU per request is read from ``/proc`` over the measured window, summed
over the server's whole process tree (a supervisor and its workers), so a case
whose rate is capped by the load generator still shows what the server spent.
"""

import asyncio
import base64
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
# The throw-away PostgreSQL cluster is the tests' own (tests/support/postgres.py).
sys.path.insert(0, str(HERE.parent))
from tests.support.postgres import Cluster  # noqa: E402
from tests.support.processes import free_port, stop  # noqa: E402

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
#: Measured only when named (``--config sqlite2``): the figures the SQLite
#: default of one worker was chosen by.
SQLITE_WORKERS = Config("sqlite2", "SQLite, --workers 2", 2, postgres=False)
NAMED_ONLY = (SQLITE_WORKERS,)


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
    #: the configurations this run measures (``run.py``)
    configs: tuple[Config, ...] = CONFIGS


# -- Servers ------------------------------------------------------------------


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
        stop(process)


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
    **overrides: Any,
) -> Iterator[Server]:
    """``authgate serve`` in a subprocess, as ``config`` runs it, with one
    registered user signed in. On PostgreSQL it gets a new database of the
    run's cluster, unless ``overrides`` name one (a second instance on the
    same database signs in as the first one's user)."""
    port = free_port()
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
    first = "database_url" not in settings
    if config.postgres:
        cluster = postgres(bench)
        if first:
            settings["database_url"] = cluster.empty()
        db_pid = cluster.postmaster_pid()
    env = _clean_env()
    env.update({f"AUTHGATE_{k.upper()}": str(v) for k, v in settings.items()})
    env["AUTHGATE_WORKERS"] = str(config.workers)
    command = [sys.executable, "-m", "authgate", "serve"]
    with _process(command, env, bench.workdir) as process:
        wait_ready(url, process)
        running = Server(label, url, process.pid, settings, db_pid=db_pid)
        running.account = _sign_in(url, register=first)
        yield running


@contextmanager
def bare_server(bench: Bench, label: str, config: Config) -> Iterator[Server]:
    """``benchmarks/bare_app.py`` on uvicorn as Authgate runs (uvloop,
    httptools, no server header, no access log), with ``config``'s workers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "bare_app:app"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(config.workers), "--loop", "uvloop", "--http", "httptools"),
        *("--log-level", "warning", "--no-access-log", "--no-server-header"),
    ]
    with _process(command, _clean_env(), bench.workdir) as process:
        wait_ready(url, process)
        yield Server(label, url, process.pid, {})


def wait_ready(
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
    claims = unverified_claims(token)
    return Account(token, claims["sub"], claims["sid"])


def unverified_claims(token: str) -> dict[str, Any]:
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


def fmt(value: float | None, spec: str) -> str:
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
    titles = (
        f"{'case':<22}{'server':<9}{'conc':>5}{'requests':>9}{'req/s':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'p99/p50':>8}{'CPU ms/op':>10}"
        f"{'loop ms/op':>11}{'srv cores':>10}{'db cores':>9}{'load cores':>11}"
    )
    lines = [titles, "-" * len(titles)]
    for result in bench.results.values():
        lines.append(
            f"{result.case:<22}{result.server:<9}{result.concurrency:>5}"
            f"{result.requests:>9}{result.rate:>9.1f}"
            f"{fmt(result.p50_ms, '.1f'):>8}{fmt(result.p99_ms, '.1f'):>8}"
            f"{fmt(result.tail, '.1f'):>8}"
            f"{fmt(result.cost_ms, '.3f'):>10}"
            f"{fmt(result.loop_cost_ms, '.3f'):>11}"
            f"{fmt(result.server_cores, '.2f'):>10}"
            f"{fmt(result.db_cores, '.2f'):>9}"
            f"{fmt(result.load_cores, '.2f'):>11}"
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
    lines = [*header(bench), *cases_table(bench)]
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
            by_cpu = fmt(cpu_ratio(top, bottom), ".2f")
            lines.append(f"{ratio.name:<44}{label:<9}{value:>7.2f}{by_cpu:>7}{goal}")
    lines += ["", *legend()]
    return "\n".join(lines)


def cpu_ratio(top: Result, bottom: Result) -> float | None:
    """The CPU per operation divided the other way up: the throughput ratio
    if the server had the cores to itself."""
    if not top.cost_ms or not bottom.cost_ms:
        return None
    return bottom.cost_ms / top.cost_ms


def header(bench: Bench, servers: str = "SQLite, 1 process") -> list[str]:
    """``servers``: how the run started ``authgate serve``."""
    options = bench.options
    return [
        f"Authgate benchmarks — {datetime.date.today().isoformat()}, "
        f"{CORES} cores, Python {platform.python_version()}, {platform.machine()}",
        f"Servers: `authgate serve` in a subprocess ({servers}); argon2id t=2 "
        "m=19456 KiB p=1, rate limits off, log level WARNING.",
        f"Load: {CLIENTS[options.client]}, in a separate process sharing the "
        f"{CORES} cores with the servers. Each case runs {options.duration:g} s "
        f"({options.login_duration:g} s for login and argon2_raw) in "
        f"{options.rounds} turns, the cases taking turns, each turn after a "
        f"{options.warmup:g} s warm-up.",
        _load_line(bench),
        "",
    ]


def legend() -> list[str]:
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
