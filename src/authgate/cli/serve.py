"""``authgate serve`` and ``authgate db upgrade``."""

import argparse
from typing import Any

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
    serve_parser.set_defaults(run=serve)
    db = commands.add_parser("db", help="Database commands.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_sub.add_parser("upgrade", help="Apply every pending migration.").set_defaults(
        run=upgrade
    )


def serve(args: argparse.Namespace) -> int:
    """Migrate the database, then serve."""
    import logging

    import uvicorn

    from authgate.app import create_app
    from authgate.cli.settings import load_settings
    from authgate.storage.migrate import upgrade as migrate

    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v}
    settings = load_settings(**overrides)
    logging.basicConfig(
        level=settings.log_level, format="%(levelname)s %(name)s: %(message)s"
    )
    migrate(settings.sqlalchemy_url)
    print(f"Authgate on {settings.issuer} (database: {_safe(settings.sqlalchemy_url)})")  # noqa: T201
    uvicorn.run(
        create_app(settings, migrate=False),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        **UVICORN_OPTIONS,
    )
    return 0


def upgrade(_args: argparse.Namespace) -> int:
    from authgate.cli import output
    from authgate.cli.settings import load_settings
    from authgate.storage.migrate import upgrade as migrate

    migrate(load_settings().sqlalchemy_url)
    output.line("Database is up to date.")
    return 0


def _safe(url: str) -> str:
    """The database URL without its password, for the start-up line."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
