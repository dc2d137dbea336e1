import inspect
import json
import subprocess
import sys

import authgate.guard

SERVER_SIDE = (
    "sqlalchemy",
    "fastapi",
    "authgate.storage",
    "authgate.web",
    "authgate.domain",
    "authgate.app",
    "authgate.config",
)


def public_names(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }


def test_all_is_sorted() -> None:
    assert authgate.guard.__all__ == sorted(authgate.guard.__all__)


def test_all_lists_exactly_the_public_names() -> None:
    assert set(authgate.guard.__all__) == public_names(authgate.guard)
    assert len(set(authgate.guard.__all__)) == len(authgate.guard.__all__)


def test_every_public_name_is_importable() -> None:
    for name in authgate.guard.__all__:
        assert getattr(authgate.guard, name) is not None


def test_importing_the_guard_pulls_in_no_server_code() -> None:
    script = (
        "import json, sys\n"
        "import authgate.guard\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = json.loads(result.stdout)
    assert "authgate.guard" in loaded
    for forbidden in SERVER_SIDE:
        found = [m for m in loaded if m == forbidden or m.startswith(forbidden + ".")]
        assert not found, f"importing authgate.guard loaded {found}"
