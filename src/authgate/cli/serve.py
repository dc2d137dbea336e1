"""``authgate serve``, ``authgate db upgrade`` and ``authgate db backup``."""

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

#: How uvicorn runs Authgate, here and in the tests' live servers. No proxy
#: headers: AUTHGATE_TRUSTED_PROXIES decides whose X-Forwarded-For counts
#: (server/forwarded.py); uvicorn's own default trusts any loopback peer.
UVICORN_OPTIONS: dict[str, Any] = {"server_header": False, "proxy_headers": False}


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    serve_parser = commands.add_parser(
        "serve", help="Run the server (SQLite in ./.authgate by default)."
    )
    serve_parser.add_argument("--host", help="Address to bind (AUTHGATE_HOST).")
    serve_parser.add_argument("--port", type=int, help="Port to bind (AUTHGATE_PORT).")
    serve_parser.add_argument(
        "--workers",
        type=int,
        help="Processes to run (AUTHGATE_WORKERS; default: one per core on "
        "PostgreSQL, one on SQLite).",
    )
    serve_parser.set_defaults(run=serve)
    db = commands.add_parser("db", help="Database commands.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_sub.add_parser("upgrade", help="Apply every pending migration.").set_defaults(
        run=upgrade
    )
    backup_parser = db_sub.add_parser(
        "backup",
        help="Copy the SQLite database to PATH while the server runs "
        "(PostgreSQL: pg_dump).",
    )
    backup_parser.add_argument("path", metavar="PATH", help="A new file.")
    backup_parser.set_defaults(run=backup)


def serve(args: argparse.Namespace) -> int:
    """Migrate the database and make the secret once, then start the workers,
    which read their settings from the same environment (the flags too)."""
    import asyncio
    import logging.config
    import os
    import tempfile

    import uvicorn

    from authgate.app import prepare
    from authgate.cli.settings import database_shown, load_settings
    from authgate.server import logs, workers

    flags = {"host": args.host, "port": args.port, "workers": args.workers}
    overrides = {name: value for name, value in flags.items() if value is not None}
    settings = load_settings(**overrides)
    for name, value in overrides.items():
        os.environ[f"AUTHGATE_{name.upper()}"] = str(value)
    # Here for the supervisor's own lines; uvicorn applies it in each worker.
    log_config = logs.configuration(settings)
    logging.config.dictConfig(log_config)
    log = logging.getLogger("authgate")
    asyncio.run(prepare(settings))
    count = settings.worker_count
    log.info(
        "Authgate on %s (database: %s; %d worker%s)",
        settings.issuer,
        database_shown(settings),
        count,
        "s" if count > 1 else "",
    )
    if count > 1 and settings.rate_limit_enabled and not settings.redis_url:
        log.warning(
            "Each of the %d workers counts rate limits on its own, as separate "
            "instances do without AUTHGATE_REDIS_URL: a client may get up to %d "
            "times a budget (sign-in lockout is per account and shared). Set "
            "AUTHGATE_REDIS_URL for one budget.",
            count,
            count,
        )
    with tempfile.TemporaryDirectory(prefix="authgate-workers-") as shared:
        if count > 1:
            os.environ[workers.DIR_ENV] = shared
        uvicorn.run(
            f"{__name__}:worker_app",
            factory=True,
            workers=count,
            host=settings.host,
            port=settings.port,
            log_config=log_config,
            log_level=settings.log_level.lower(),
            **UVICORN_OPTIONS,
        )
    return 0


def worker_app() -> "FastAPI":
    """What each worker runs: the migrations already ran in ``serve``."""
    from authgate.app import create_app
    from authgate.cli.settings import load_settings

    return create_app(load_settings(), migrate=False)


def upgrade(_args: argparse.Namespace) -> int:
    from authgate.cli import output
    from authgate.cli.settings import load_settings
    from authgate.storage.migrate import upgrade as migrate

    migrate(load_settings().sqlalchemy_url)
    output.line("Database is up to date.")
    return 0


def backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from authgate.cli import output
    from authgate.cli.settings import load_settings
    from authgate.storage.backup import BackupError
    from authgate.storage.backup import backup as copy

    target = Path(args.path)
    try:
        source = copy(load_settings().sqlalchemy_url, target)
    except BackupError as exc:
        output.error(str(exc))
        return 1
    output.success(f"Backed up {source} to {target}.")
    return 0
