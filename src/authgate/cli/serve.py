from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (AUTHGATE_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind (AUTHGATE_PORT).")
    ] = None,
) -> None:
    """Run the server (SQLite in ./.authgate by default), migrating first."""
    import logging

    import uvicorn

    from authgate.app import create_app
    from authgate.config import Settings
    from authgate.storage.migrate import upgrade

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level, format="%(levelname)s %(name)s: %(message)s"
    )
    upgrade(settings.sqlalchemy_url)
    typer.echo(
        f"Authgate on {settings.issuer} (database: {_safe(settings.sqlalchemy_url)})"
    )
    uvicorn.run(
        create_app(settings, migrate=False),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        server_header=False,
    )


def _safe(url: str) -> str:
    """The database URL without its password, for the start-up line."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
