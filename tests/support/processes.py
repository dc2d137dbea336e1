"""Apps under test started as separate processes (host apps that mount the
guard, the example MCP server): a free loopback port, the environment they
read, and a wait until they answer. Their output goes to a file that is shown
if they fail to start."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def app_process(
    script: Path,
    env: dict[str, str],
    *,
    port: int | None = None,
    ready: str = "/",
    log: Path | None = None,
) -> Iterator[str]:
    """Run ``python script`` on ``port`` (a free one by default) until the
    block ends; yields its base URL once ``GET ready`` answers at all. Its
    output goes to ``log`` when given (to read what it logged)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w+b") if log else tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env, "PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(process, url + ready, output)
            yield url
        finally:
            stop(process)


def stop(process: "subprocess.Popen[bytes]") -> None:
    """Ask it to end (its shutdown runs), and kill it if that takes 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait(process: subprocess.Popen[bytes], url: str, output: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    output.seek(0)
    raise RuntimeError(
        f"{url} did not start:\n{output.read().decode(errors='replace')}"
    )
