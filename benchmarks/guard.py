"""What the guard costs a host app: its protected endpoint over its open one,
measured side by side in one run.

Run with ``.venv/bin/python benchmarks/guard.py`` (``--duration``, ``--warmup``,
``--concurrency`` as for ``benchmarks/run.py``, whose servers, load generator
and report it uses).

The host is ``examples/fastapi_app/app.py`` under ``uvicorn`` (one process, no
access log) in a subprocess, trusting an ``authgate serve`` subprocess that is
idle while the host is measured, except for introspection. Its ``GET /public``
passes through ``GuardMiddleware`` with no credential; ``GET /whoami`` needs
one and returns the ``Principal``:

- a JWT, the same one every time: verified once, then served from the guard's
  verification cache;
- a JWT never seen before on every request: signature and claims checked
  offline against the JWKS the host already holds (no call to Authgate);
- a personal access token: RFC 7662 introspection at Authgate, cached by the
  guard for 5 s (so about one introspection per 5 s).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from harness import (
    Bench,
    Options,
    Ratio,
    Result,
    Server,
    keep,
    measure,
    mint_access_tokens,
    report,
    server,
    wait_ready,
)
from tests.support.processes import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fastapi_app"


@contextmanager
def host(authgate: Server, resource: str, port: int) -> Iterator[Server]:
    """The FastAPI example trusting ``authgate``, with a confidential client
    of its own for introspection."""
    with authgate.api() as http:
        made = http.post(
            "/api/v1/admin/clients",
            json={"name": "bench-host", "grant_types": ["client_credentials"]},
        )
        made.raise_for_status()
    client = made.json()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.update(
        {
            "AUTHGATE_SERVER": authgate.url,
            "RESOURCE_URI": resource,
            "AUTHGATE_CLIENT_ID": client["client_id"],
            "AUTHGATE_CLIENT_SECRET": client["client_secret"],
        }
    )
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(EXAMPLE),
        "app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_ready(resource, process, "/public")
        yield Server("host", resource, process.pid, {})
    finally:
        stop(process)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cases(bench: Bench, authgate: Server, running: Server) -> list[Result]:
    options = bench.options
    token = mint_access_tokens(authgate, 1, audience=running.url)[0]
    # Enough for ~3000 req/s of fresh tokens; the case stops early, measuring
    # up to its last request, if they run out.
    fresh = mint_access_tokens(
        authgate, int(3000 * (options.warmup + options.duration)), audience=running.url
    )
    with authgate.api() as http:
        made = http.post(
            "/api/v1/access-tokens", json={"name": "bench", "expires_in_days": 30}
        )
        made.raise_for_status()
    pat = made.json()["token"]
    for credential in (token, pat):  # the host accepts them before timing starts
        answer = httpx.get(f"{running.url}/whoami", headers=bearer(credential))
        answer.raise_for_status()
    return [
        measure(bench, "host_public", running, "GET", "/public"),
        measure(bench, "host_jwt", running, "GET", "/whoami", headers=[bearer(token)]),
        measure(
            bench,
            "host_jwt_cold",
            running,
            "GET",
            "/whoami",
            headers=[bearer(t) for t in fresh],
            once=True,
        ),
        measure(bench, "host_pat", running, "GET", "/whoami", headers=[bearer(pat)]),
    ]


RATIOS = [
    Ratio("host /whoami JWT (cached) / /public", "host_jwt", "host_public"),
    Ratio("host /whoami JWT (new each time) / /public", "host_jwt_cold", "host_public"),
    Ratio("host /whoami PAT (introspected) / /public", "host_pat", "host_public"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=Options.duration)
    parser.add_argument("--warmup", type=float, default=Options.warmup)
    parser.add_argument("--concurrency", type=int, default=Options.light_concurrency)
    args = parser.parse_args()
    options = Options(
        warmup=args.warmup, duration=args.duration, light_concurrency=args.concurrency
    )
    workdir = Path(tempfile.mkdtemp(prefix="authgate-bench-guard-"))
    port = free_port()
    resource = f"http://127.0.0.1:{port}"
    try:
        bench = Bench(options, workdir)
        bench.load.append(os.getloadavg()[0])
        with (
            server(bench, "authgate", extra_resources=resource) as authgate,
            host(authgate, resource, port) as running,
        ):
            for _ in range(options.rounds):
                for result in cases(bench, authgate, running):
                    keep(bench, result)
        bench.load.append(os.getloadavg()[0])
        print(report(bench, RATIOS))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
