import typer

app = typer.Typer(help="Database commands.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration."""
    from authgate.config import Settings
    from authgate.storage.migrate import upgrade as run

    run(Settings().sqlalchemy_url)
    typer.echo("Database is up to date.")
