"""Alembic environment: runs the migrations over Authgate's async engine."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from authgate.storage import models  # noqa: F401 - registers every table
from authgate.storage.base import Base
from authgate.storage.db import create_engine


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_engine(context.config.attributes["url"])
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
