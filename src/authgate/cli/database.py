"""How commands that work on the server's own database (``admin`` and its
groups) open it, and who they say they are in the audit log."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from authgate.cli import output

if TYPE_CHECKING:
    from authgate.domain.context import Peer
    from authgate.server.services import Services

T = TypeVar("T")


def run(work: Callable[["Services"], Awaitable[T]]) -> T:
    """Migrate, then run ``work`` with the server's services; errors become one line.

    Says on standard error which database it works on, and refuses to create
    one: run from another folder, the default data dir is another (empty) one,
    and what an admin command made there no running server would know."""
    import asyncio

    from authgate.app import build_services
    from authgate.cli.settings import database_shown, load_settings
    from authgate.errors import AuthgateError
    from authgate.storage.migrate import current_revision, upgrade

    async def main() -> T:
        services = build_services(settings)
        try:
            await services.keys.load()
            return await work(services)
        finally:
            await services.keys.settled()
            await services.db.close()

    settings = load_settings()
    shown = database_shown(settings)
    if current_revision(settings.sqlalchemy_url) is None:
        output.error(
            f"No Authgate database at {shown}. Admin commands work on the "
            "server's database and never create one: run them with its "
            "AUTHGATE_DATABASE_URL (or AUTHGATE_DATA_DIR, or from its folder), "
            "or create a database first with 'authgate db upgrade'."
        )
        raise SystemExit(1)
    output.note(f"Database: {shown}")
    upgrade(settings.sqlalchemy_url)
    try:
        return asyncio.run(main())
    except AuthgateError as exc:
        output.error(exc.description)
        raise SystemExit(1) from None


def cli_peer() -> "Peer":
    from authgate.domain.context import Peer

    return Peer(user_agent="authgate-cli")
