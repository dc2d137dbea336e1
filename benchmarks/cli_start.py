"""CLI start-up: ``authgate --help`` and ``authgate auth status`` against the
interpreter alone (``python -c pass``), measured side by side in one run.

Run with ``.venv/bin/python benchmarks/cli_start.py [--runs 20]``. Each command
runs once to warm the caches (bytecode, page cache), then the commands take
turns ``--runs`` times, so a busy machine slows all of them alike; the figures
are medians of wall time, and the ratios divide them by the interpreter's.
``auth status`` runs twice: not signed in, and with a stored OAuth session
(both read only the credentials file; neither touches the network). The goal
is at most 3x ``python -c pass``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
AUTHGATE = str(BIN / "authgate")
SERVER = "http://127.0.0.1:9"  # never contacted
GOAL = 3.0


def _env(config_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    env.update(XDG_CONFIG_HOME=str(config_home), AUTHGATE_SERVER=SERVER)
    return env


def _oauth_session(config_home: Path) -> None:
    path = config_home / "authgate" / "credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    expires = int(time.time()) + 3600
    entry = {
        "access_token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3IifQ.c2lnbmF0dXJl",
        "refresh_token": "ag_rt_benchmark",
        "expires_at": expires,
        "username": "bench",
    }
    path.write_text(json.dumps({"last_server": SERVER, "servers": {SERVER: entry}}))
    path.chmod(0o600)


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own fixed commands
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        empty, signed_in = Path(temp, "empty"), Path(temp, "signed-in")
        empty.mkdir()
        _oauth_session(signed_in)
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], _env(empty)),
            "authgate --help": ([AUTHGATE, "--help"], _env(empty)),
            "authgate auth status (signed out)": (
                [AUTHGATE, "auth", "status"],
                _env(empty),
            ),
            "authgate auth status (OAuth session)": (
                [AUTHGATE, "auth", "status"],
                _env(signed_in),
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for command, env in cases.values():
            _time(command, env)  # warm-up
        for _ in range(options.runs):
            for name, (command, env) in cases.items():
                timings[name].append(_time(command, env))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    base = medians["python -c pass"]
    print(f"CLI start-up, median of {options.runs} runs each (goal <= {GOAL:g}x)")
    print(f"{'command':<40} {'median':>9} {'ratio':>7}")
    worst = 0.0
    for name, median in medians.items():
        ratio = median / base
        if name != "python -c pass":
            worst = max(worst, ratio)
        print(f"{name:<40} {median * 1000:>7.1f}ms {ratio:>6.2f}x")
    print(f"worst ratio {worst:.2f}x: {'ok' if worst <= GOAL else 'OVER THE GOAL'}")


if __name__ == "__main__":
    main()
