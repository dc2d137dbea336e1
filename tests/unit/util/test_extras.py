"""The modules ``util/extras.py`` attributes to each extra are exactly those
its packages (pyproject.toml) install, so a missing one is never misnamed."""

import re
import tomllib
from collections import defaultdict
from importlib.metadata import packages_distributions
from pathlib import Path

from authgate.util.extras import MODULES, extra_for

PYPROJECT = Path(__file__).parents[3] / "pyproject.toml"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(requirement: str) -> str:
    """The package a requirement names (``sqlalchemy[asyncio]>=2.1``: sqlalchemy)."""
    return _normalized(re.split(r"[\s\[<>=!~;]", requirement)[0])


def test_each_extra_lists_the_modules_its_packages_install() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    installs: defaultdict[str, set[str]] = defaultdict(set)
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            installs[_normalized(distribution)].add(module)
    found = {
        extra: {
            module
            for requirement in requirements
            for module in installs[
                _normalized(re.split(r"[\s\[<>=!~;]", requirement)[0])
            ]
            if not module.startswith("_")
        }
        for extra, requirements in declared.items()
    }
    assert found == {extra: set(modules) for extra, modules in MODULES.items()}


def test_a_module_is_traced_to_its_extra() -> None:
    assert extra_for("sqlalchemy.ext.asyncio") == "server"
    assert extra_for("asyncpg") == "postgres"
    assert extra_for("redis") == "redis"
    assert extra_for("maxminddb") == "geoip"
    assert extra_for("httpx") is None  # the base package's
    assert extra_for("authgate.config") is None
