"""Issue #17's goal table: every figure measured side by side in one run.

Run with ``./dev bench`` (``.venv/bin/python benchmarks/run.py``). Every case is
one small function below, listed in ``CASES``; every line of the goal table in
``GOALS`` (``benchmarks/goals.py``); what they share (servers, the load
generator, the per-case table) is in ``benchmarks/harness.py``.

How it measures: each configuration (``CONFIGS``) is ``authgate serve`` in a
subprocess on a free 127.0.0.1 port: PostgreSQL (a throw-away cluster, started
as the tests start theirs) with ``AUTHGATE_WORKERS=2``, and SQLite in one
process; beside each, a bare Starlette app on the same uvicorn with as many
workers. The load comes from ``benchmarks/load.py`` in another subprocess: N
concurrent keep-alive connections for a fixed time after a warm-up. The
baselines (raw argon2id, one thread per core; PyJWT's ES256 verify) run in
their own subprocesses while no server is busy.
"""

import argparse
import asyncio
import base64
import dataclasses
import hashlib
import html
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from goals import goal_table
from harness import (
    ARGON2,
    CLIENTS,
    CONFIGS,
    CORES,
    NAMED_ONLY,
    PASSWORD,
    PG,
    SQLITE,
    USERNAME,
    Bench,
    Config,
    Options,
    Result,
    Server,
    bare_server,
    cases_table,
    header,
    keep,
    legend,
    measure,
    mint_access_tokens,
    run_load,
    server,
    unverified_claims,
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
    claims = unverified_claims(token)
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
    *tokens, probe = mint_access_tokens(
        running, int(3000 * (options.warmup + options.slice)) + 1
    )
    # /healthz answers whatever the token: check one is accepted where it counts
    accepted = httpx.get(f"{running.url}/api/v1/me", headers=_bearer(probe))
    accepted.raise_for_status()
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
    #: those of them the run measures (``Bench.configs``)
    configs: tuple[Config, ...] = (*CONFIGS, *NAMED_ONLY)
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
        # Another instance of the same deployment: its database and its
        # public URL (the issuer and audience of the tokens it accepts).
        first = bench.servers[f"authgate@{config.label}"]
        same = {k: first.settings[k] for k in ("database_url", "public_url")}
        with server(bench, name, config, **same) as running:
            yield running
    else:
        with scale_server(bench, name, config) as running:
            yield running


# -- Running and printing ------------------------------------------------------


def run(bench: Bench, only: set[str] | None) -> None:
    """Every selected case once per round, in ``CASES`` order, on each
    configuration in turn; every server up for the whole run (an idle one
    costs nothing)."""
    configs = bench.configs
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
        choices=[c.label for c in (*CONFIGS, *NAMED_ONLY)],
        help="run only this configuration (repeatable; sqlite2 only when named)",
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
            warmup=0.5,
            duration=1.5,
            login_duration=1.5,
            rounds=1,
            revocations=4,
        )
    configs = (
        tuple(c for c in (*CONFIGS, *NAMED_ONLY) if c.label in (args.config or ()))
        or CONFIGS
    )
    workdir = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    try:
        bench = Bench(options, workdir, configs=configs)
        bench.load.append(os.getloadavg()[0])
        run(bench, set(args.only) if args.only else None)
        bench.load.append(os.getloadavg()[0])
        servers = ", ".join(f"{c.label} = {c.title}" for c in configs)
        servers += "; beside each, a bare Starlette app on the same uvicorn"
        print("\n".join([*header(bench, servers), *goal_table(bench), ""]))
        print("\n".join([*cases_table(bench), "", *legend()]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
