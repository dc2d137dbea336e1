"""``authgate admin …``: operator commands that work on the database directly,
so they work before any account exists and without a running server."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from authgate.web.services import Services

app = typer.Typer(
    help="Administer users, invites, clients and keys.", no_args_is_help=True
)
invite_app = typer.Typer(help="Instance invite codes.", no_args_is_help=True)
app.add_typer(invite_app, name="invite")

T = TypeVar("T")


def _run(work: Callable[["Services"], Awaitable[T]]) -> T:
    """Migrate, then run ``work`` with the server's services; errors become one line."""
    from authgate.app import build_services
    from authgate.config import Settings
    from authgate.errors import AuthgateError
    from authgate.storage.migrate import upgrade

    async def main() -> T:
        services = build_services(settings)
        try:
            await services.keys.load()
            return await work(services)
        finally:
            await services.db.close()

    try:
        settings = Settings()
        upgrade(settings.sqlalchemy_url)
        return asyncio.run(main())
    except AuthgateError as exc:
        typer.echo(f"error: {exc.description}", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create-user")
def create_user(
    name: str,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="Make an instance administrator.")
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
) -> None:
    """Create a local account."""
    from authgate.domain import users
    from authgate.domain.context import ClientInfo

    password = _password(password_stdin)

    async def work(services: "Services") -> users.User:
        async with services.db.transaction() as tx:
            return await users.create(
                tx,
                services.hasher,
                username=name,
                password=password,
                email=email,
                is_admin=admin,
                min_length=services.settings.password_min_length,
                actor_id=None,
                client=ClientInfo(user_agent="authgate-cli"),
            )

    user = _run(work)
    typer.echo(
        f"Created user {user.username} ({user.id})"
        + (" as admin." if user.is_admin else ".")
    )


@app.command("reset-password")
def reset_password(
    name: str,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
) -> None:
    """Set a user's password and end all their sessions."""
    from authgate.domain import users
    from authgate.domain.context import ClientInfo
    from authgate.errors import NotFound

    password = _password(password_stdin)

    async def work(services: "Services") -> None:
        async with services.db.transaction() as tx:
            user = await tx.users.by_username(users.normalize_username(name))
            if user is None:
                raise NotFound(f"No user named {name}.")
            await users.set_password(
                tx,
                services.hasher,
                user,
                password,
                min_length=services.settings.password_min_length,
                actor_id=None,
                client=ClientInfo(user_agent="authgate-cli"),
            )

    _run(work)
    typer.echo(f"Password reset for {name}; their sessions were ended.")


@invite_app.command("create")
def invite_create(
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=365, help="Days until the code expires.")
    ] = None,
) -> None:
    """Print a single-use invite code."""
    from authgate.domain import invites
    from authgate.domain.context import ClientInfo

    async def work(services: "Services") -> str:
        async with services.db.transaction() as tx:
            _invite, code = await invites.create(
                tx,
                prefix=services.settings.token_prefix,
                created_by=None,
                expires_in_days=expires_in_days,
                client=ClientInfo(user_agent="authgate-cli"),
            )
        return code

    typer.echo(_run(work))


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Make new signing keys; old ones stay published until their tokens expire."""
    from authgate.domain import signing_keys
    from authgate.domain.context import ClientInfo

    async def work(services: "Services") -> list[str]:
        async with services.db.transaction() as tx:
            return await signing_keys.rotate(
                tx,
                services.keys.cipher,
                actor_id=None,
                client=ClientInfo(user_agent="authgate-cli"),
            )

    kids = _run(work)
    typer.echo("New signing keys: " + ", ".join(kids))
