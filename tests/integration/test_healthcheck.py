"""The image's HEALTHCHECK, run as Docker runs it, against a server set up as
in the image: bound to all interfaces, reached by its public name, so a check
that did not name that host would get 421."""

import os
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from tests.support.live import LiveServer
from tests.unit.test_deployment import healthcheck_command

PUBLIC_URL = "https://auth.example.com"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_image_healthcheck_passes_against_a_public_server(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(host="0.0.0.0", public_url=PUBLIC_URL)  # noqa: S104
    # the loopback name alone is refused: the check must name the public host
    assert httpx.get(f"{server.url}/healthz").status_code == 421
    program, *args = healthcheck_command()
    assert program == "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    run = [sys.executable, *args]
    passed = subprocess.run(
        run,
        env={
            **env,
            "AUTHGATE_PORT": str(server.port),
            "AUTHGATE_PUBLIC_URL": PUBLIC_URL,
        },
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert passed.returncode == 0, passed.stderr
    # and it fails when the server does not answer as itself
    failed = subprocess.run(
        run,
        env={
            **env,
            "AUTHGATE_PORT": str(server.port),
            "AUTHGATE_PUBLIC_URL": "https://x.test",
        },
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert failed.returncode != 0
