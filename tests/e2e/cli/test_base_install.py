"""``pip install authgate`` without extras, as another app's guard or a
person's CLI gets it: built into a wheel from this checkout and installed in a
fresh environment, it imports the guard and the client with no server
dependency present, runs the client commands against a live server, and its
server commands say which extra to install."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.actions import Actions
from tests.support.live import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

CHECKOUT = Path(__file__).parents[3]
#: What uv says when it cannot reach the package index: only then is
#: building truly impossible here, and the tests skip.
OFFLINE = ("Failed to fetch", "Could not connect", "dns error", "error sending request")


def _env() -> dict[str, str]:
    """This environment's variables, less those that point uv, Python or
    Authgate at the test run's own environment."""
    dropped = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME"}
    return {
        name: value
        for name, value in os.environ.items()
        if name not in dropped and not name.startswith("AUTHGATE_")
    }


def _uv(*args: str) -> None:
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.skip("no uv in the test environment to build the package with")
    result = subprocess.run(
        [str(uv), "--quiet", *args],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        timeout=50,
    )
    if result.returncode != 0:
        if any(sign in result.stderr for sign in OFFLINE):
            pytest.skip(f"the package index is out of reach: {result.stderr[-300:]}")
        pytest.fail(f"uv {' '.join(args)} failed:\n{result.stderr}")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ of a fresh environment with the base package alone."""
    root = tmp_path_factory.mktemp("base-install")
    _uv("build", "--wheel", "--out-dir", str(root / "dist"), str(CHECKOUT))
    (wheel,) = (root / "dist").glob("authgate-*.whl")
    _uv("venv", "--python", sys.executable, str(root / "venv"))
    _uv("pip", "install", "--python", str(root / "venv" / "bin" / "python"), str(wheel))
    return root / "venv" / "bin"


def _run(
    base: Path, *args: str, cwd: Path, **env: str
) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [str(base / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,  # not the checkout: its src/ must not be importable
        env={**_env(), "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd), **env},
        check=False,
        timeout=30,
    )


def test_the_guard_and_the_client_import_with_no_server_dependency(
    base: Path, tmp_path: Path
) -> None:
    script = """
import importlib.util
import authgate, authgate.client, authgate.guard
from authgate.util.extras import MODULES
print(authgate.__file__)
print(sorted(m for ms in MODULES.values() for m in ms if importlib.util.find_spec(m)))
"""
    result = _run(base, "python", "-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    where, present = result.stdout.splitlines()
    assert where.startswith(str(base.parent))  # the installed wheel, not src/
    assert present == "[]"  # not one module of any extra is installed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_client_commands_work_on_the_base_package(
    base: Path, tmp_path: Path, server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    token = actions.make_pat(alice)["token"]
    listing = _run(base, "authgate", "--help", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "tokens" in listing.stdout
    whoami = _run(
        base,
        "authgate",
        "whoami",
        cwd=tmp_path,
        AUTHGATE_SERVER=server.url,
        AUTHGATE_TOKEN=token,
    )
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == f"{alice.username} via pat"


@pytest.mark.parametrize(
    "command", [["serve"], ["db", "upgrade"], ["admin", "rotate-keys"]]
)
def test_a_server_command_names_the_extra_to_install(
    base: Path, tmp_path: Path, command: list[str]
) -> None:
    result = _run(base, "authgate", *command, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()  # one line, no traceback
    assert line.startswith(f"error: 'authgate {command[0]}' needs the server extra")
    assert "pip install 'authgate[server]'" in line
    assert not (tmp_path / ".authgate").exists()  # nothing made on the way
