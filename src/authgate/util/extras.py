"""Which optional part of Authgate (an extra of the package, pyproject.toml)
installs a module, so that a command or setting that needs one names what to
install instead of failing with a traceback.

The base package is what other apps import: the guard and the client, with
the client's CLI. The server is the ``server`` extra, and PostgreSQL, Redis
and IP locations are extras of their own.
"""

import importlib.util

#: The top-level modules of each extra's packages that Authgate imports
#: (tests/unit/util/test_extras.py keeps it in step with pyproject.toml).
MODULES: dict[str, frozenset[str]] = {
    "server": frozenset(
        {
            "aiosmtplib",
            "aiosqlite",
            "alembic",
            "argon2",
            "authlib",
            "cachetools",
            "email_validator",
            "fastapi",
            "fastapi_offline",
            "httptools",
            "jinja2",
            "limits",
            "multipart",
            "prometheus_client",
            "pydantic",
            "pydantic_settings",
            "pyotp",
            "python_multipart",
            "pythonjsonlogger",
            "segno",
            "sqlalchemy",
            "starlette",
            "uvicorn",
            "uvloop",
            "webauthn",
            "zxcvbn",
        }
    ),
    "postgres": frozenset({"asyncpg"}),
    "redis": frozenset({"redis"}),
    "geoip": frozenset({"maxminddb"}),
}


def extra_for(module: str) -> str | None:
    """The extra that installs ``module`` (or the package it is part of)."""
    top = module.partition(".")[0]
    return next((extra for extra, names in MODULES.items() if top in names), None)


def is_installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def install_hint(extra: str) -> str:
    """How to install ``extra``: by name from an index, or from a checkout."""
    return (
        f"pip install 'authgate[{extra}]', or in a checkout "
        f"pip install '.[{extra}]' (README: Install)"
    )
