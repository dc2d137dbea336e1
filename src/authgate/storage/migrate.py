"""Bring a database to the newest schema with the migrations shipped in the wheel."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous: Alembic's env runs its own event loop."""
    if url.startswith("sqlite"):
        _sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The schema revision at ``url``; ``None`` where there is no Authgate
    database (no SQLite file, or no migration ever ran), found without
    creating one: commands other than ``serve`` and ``db upgrade`` must not
    start an empty database beside the one the server uses."""
    if url.startswith("sqlite") and not _sqlite_path(url).is_file():
        return None
    return asyncio.run(_revision(url))


def _sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[1]) if "///" in url else Path()


async def _revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)
