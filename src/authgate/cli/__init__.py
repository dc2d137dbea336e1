"""``authgate``: runs the server and is a client of it. Each group lives in its
own module and imports what it needs inside its commands, so ``--help`` and
client commands start fast."""

import typer

from authgate.cli import admin, db, serve

app = typer.Typer(
    name="authgate",
    help="Self-hosted authentication server and client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(admin.app, name="admin")


def main() -> None:
    app()
