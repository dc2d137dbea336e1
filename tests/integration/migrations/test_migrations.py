"""The shipped migrations, on every database: they build the schema the models
describe, walk down and up again, and carry existing data forward.

Nothing here names the tables or the head revision: both come from the models
and the migration scripts, so a new migration is covered as soon as it exists.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from authgate.storage import models  # noqa: F401 - registers every table
from authgate.storage.base import Base, UTCDateTime
from authgate.storage.db import Database, Tx
from authgate.storage.migrate import alembic_config, downgrade, upgrade
from tests.support.postgres import Cluster

T = TypeVar("T")

FIRST_REVISION = "0001"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with nothing in it, not even Alembic's version table."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    cluster: Cluster | None = request.getfixturevalue("postgres")
    if cluster is None:
        pytest.skip("PostgreSQL is not installed")
    return cluster.empty()


def on(url: str, use: Callable[[Connection], T]) -> T:
    """``use`` on a plain synchronous connection to ``url``."""

    async def main() -> T:
        db = Database(url)
        try:
            async with db.engine.connect() as connection:
                return await connection.run_sync(use)
        finally:
            await db.close()

    return asyncio.run(main())


def tables(url: str) -> set[str]:
    return on(url, lambda c: set(sa.inspect(c).get_table_names()))


def revision(url: str) -> str | None:
    return on(url, lambda c: MigrationContext.configure(c).get_current_revision())


def script(url: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(url))


def model_tables() -> set[str]:
    return set(Base.metadata.tables)


def test_there_is_one_head() -> None:
    assert len(script("sqlite://").get_heads()) == 1


def test_empty_to_head(empty_url: str) -> None:
    assert tables(empty_url) == set()
    upgrade(empty_url)
    assert revision(empty_url) == script(empty_url).get_current_head()
    assert model_tables() <= tables(empty_url)


def test_head_to_base_to_head(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    assert revision(empty_url) is None
    assert tables(empty_url) & model_tables() == set()
    upgrade(empty_url)
    assert revision(empty_url) == script(empty_url).get_current_head()
    assert model_tables() <= tables(empty_url)


def test_every_revision_steps_up_and_down(empty_url: str) -> None:
    revisions = [r.revision for r in reversed(list(script(empty_url).walk_revisions()))]
    assert revisions[0] == FIRST_REVISION
    seen: list[set[str]] = [tables(empty_url)]
    for rev in revisions:
        upgrade(empty_url, rev)
        assert revision(empty_url) == rev
        seen.append(tables(empty_url))
    for index in range(len(revisions) - 1, -1, -1):
        target = revisions[index - 1] if index else "base"
        downgrade(empty_url, target)
        assert revision(empty_url) == (revisions[index - 1] if index else None)
        # each downgrade leaves exactly the tables the revision below had
        assert tables(empty_url) - {"alembic_version"} == seen[index] - {
            "alembic_version"
        }


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


def test_models_match_the_migrations(database_url: str) -> None:
    # database_url is migrated to head by the shipped migrations
    assert on(database_url, _diff) == []


def test_models_match_a_fresh_upgrade(empty_url: str) -> None:
    upgrade(empty_url)
    assert on(empty_url, _diff) == []


def test_data_survives_upgrading_from_the_first_revision(empty_url: str) -> None:
    upgrade(empty_url, FIRST_REVISION)
    created = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    users = sa.table(
        "users",
        sa.column("id", sa.String),
        sa.column("username", sa.String),
        sa.column("email", sa.String),
        sa.column("password_hash", sa.String),
        sa.column("is_admin", sa.Boolean),
        sa.column("created_at", UTCDateTime()),
    )
    row = {
        "id": "usr_0001user",
        "username": "legacy",
        "email": "legacy@example.com",
        "password_hash": "$argon2id$legacy",
        "is_admin": True,
        "created_at": created,
    }

    def insert(connection: Connection) -> None:
        connection.execute(sa.insert(users).values(**row))
        connection.commit()

    on(empty_url, insert)
    upgrade(empty_url)
    assert revision(empty_url) == script(empty_url).get_current_head()

    async def read(tx: Tx) -> Any:
        return await tx.users.by_username("legacy")

    found = stored(empty_url, read)
    assert found is not None
    assert found.id == row["id"]
    assert found.email == row["email"]
    assert found.password_hash == row["password_hash"]
    assert found.is_admin is True
    assert found.created_at == created
    assert found.disabled_at is None


def columns(url: str, table: str) -> set[str]:
    return on(url, lambda c: {col["name"] for col in sa.inspect(c).get_columns(table)})


def stored(url: str, read: Callable[[Tx], Awaitable[T]]) -> T:
    """What ``read`` finds through the stores, in one transaction."""

    async def main() -> T:
        db = Database(url)
        try:
            async with db.transaction() as tx:
                return await read(tx)
        finally:
            await db.close()

    return asyncio.run(main())


def test_refresh_tokens_learn_when_their_family_started(empty_url: str) -> None:
    """Migration 0008: each stored refresh token takes its family's start, the
    creation of the family's oldest token, so the absolute lifetime counts
    from the sign-in for tokens issued before the upgrade too."""
    upgrade(empty_url, "0007")
    start = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    users = sa.table(
        "users",
        sa.column("id", sa.String),
        sa.column("username", sa.String),
        sa.column("is_admin", sa.Boolean),
        sa.column("created_at", UTCDateTime()),
    )
    refresh = sa.table(
        "refresh_tokens",
        sa.column("id", sa.String),
        sa.column("token_hash", sa.String),
        sa.column("family_id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("scope", sa.String),
        sa.column("created_at", UTCDateTime()),
        sa.column("expires_at", UTCDateTime()),
    )
    rows = [  # (id, family, created): two families, the first rotated twice
        ("rt_a1", "rt_a1", start),
        ("rt_a2", "rt_a1", start + timedelta(days=3)),
        ("rt_a3", "rt_a1", start + timedelta(days=6)),
        ("rt_b1", "rt_b1", start + timedelta(days=1)),
    ]

    def insert(connection: Connection) -> None:
        connection.execute(
            sa.insert(users).values(
                id="usr_0001user", username="legacy", is_admin=False, created_at=start
            )
        )
        for token_id, family, created in rows:
            connection.execute(
                sa.insert(refresh).values(
                    id=token_id,
                    token_hash=f"hash-{token_id}",
                    family_id=family,
                    user_id="usr_0001user",
                    scope="",
                    created_at=created,
                    expires_at=created + timedelta(days=7),
                )
            )
        connection.commit()

    on(empty_url, insert)
    upgrade(empty_url)

    async def read(tx: Tx) -> Any:
        return {t: await tx.refresh_tokens.by_hash(f"hash-{t}") for t, _, _ in rows}

    found = stored(empty_url, read)
    assert {t: found[t].family_created_at for t, _, _ in rows} == {
        "rt_a1": start,
        "rt_a2": start,
        "rt_a3": start,
        "rt_b1": start + timedelta(days=1),
    }


def test_clients_registered_before_0007_have_no_recorded_address(
    empty_url: str,
) -> None:
    """0007 adds where a dynamic registration came from; clients registered
    before it keep working, with the address unknown."""
    upgrade(empty_url, "0006")
    clients = sa.table(
        "oauth_clients",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("redirect_uris", sa.JSON),
        sa.column("grant_types", sa.JSON),
        sa.column("auth_method", sa.String),
        sa.column("registration", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    row = {
        "id": "cl_0006client",
        "name": "Old CLI",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "auth_method": "none",
        "registration": "dynamic",
        "created_at": datetime(2026, 11, 30, tzinfo=UTC),
    }

    def insert(connection: Connection) -> None:
        connection.execute(sa.insert(clients).values(**row))
        connection.commit()

    on(empty_url, insert)
    upgrade(empty_url)

    async def read(tx: Tx) -> Any:
        return await tx.clients.get("cl_0006client")

    found = stored(empty_url, read)
    assert found is not None
    assert found.registration == "dynamic"
    assert found.registered_from is None
    assert found.redirect_uris == ("http://127.0.0.1/callback",)
    downgrade(empty_url, "0006")
    assert "registered_from" not in columns(empty_url, "oauth_clients")


def _outbox(*columns: str) -> Any:
    return sa.table(
        "invalidations",
        sa.column("id"),
        sa.column("tags", sa.JSON),
        sa.column("at", UTCDateTime()),
        *(sa.column(name) for name in columns),
    )


def test_the_outbox_keeps_its_rows_and_stamps_each_new_one(empty_url: str) -> None:
    """0009: the outbox's rows survive (SQLite rebuilds the table); a new row
    gets an id above every id ever used, even once the highest is pruned, and
    on PostgreSQL the id of its writer's transaction, though the insert does
    not name the column (as an instance of the previous release writes it)."""
    upgrade(empty_url, "0008")
    at = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)

    def insert(connection: Connection) -> None:
        rows = [{"tags": ["ses_1"], "at": at}, {"tags": ["ses_2"], "at": at}]
        connection.execute(sa.insert(_outbox()), rows)
        connection.commit()

    on(empty_url, insert)
    upgrade(empty_url)

    def prune_the_highest_and_insert(connection: Connection) -> list[Any]:
        outbox = _outbox("xact_id")
        connection.execute(sa.delete(outbox).where(outbox.c.id == 2))
        connection.execute(sa.insert(outbox).values(tags=["ses_3"], at=at))
        connection.commit()
        query = sa.select(outbox.c.id, outbox.c.tags, outbox.c.xact_id)
        return [tuple(row) for row in connection.execute(query.order_by("id"))]

    (old_id, old_tags, old_xact), (new_id, new_tags, new_xact) = on(
        empty_url, prune_the_highest_and_insert
    )
    assert (old_id, old_tags, old_xact) == (1, ["ses_1"], None)
    assert (new_id, new_tags) == (3, ["ses_3"])
    assert (new_xact is not None) == empty_url.startswith("postgresql")


def test_sessions_and_orgs_from_before_second_factors_keep_working(
    empty_url: str,
) -> None:
    """0010: a session begun before it has no recorded authentication, so its
    ``auth_time`` is its start; an org made before it does not require MFA."""
    upgrade(empty_url, "0009")
    at = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    user = sa.table(
        "users",
        sa.column("id"),
        sa.column("username"),
        sa.column("is_admin"),
        sa.column("created_at", UTCDateTime()),
    )
    session = sa.table(
        "sessions",
        *(sa.column(name) for name in ("id", "user_id", "token_hash", "device")),
        *(sa.column(name, UTCDateTime()) for name in ("created_at", "last_active_at")),
        sa.column("expires_at", UTCDateTime()),
    )
    org = sa.table(
        "orgs",
        sa.column("id"),
        sa.column("slug"),
        sa.column("name"),
        sa.column("created_at", UTCDateTime()),
    )

    def insert(connection: Connection) -> None:
        connection.execute(
            sa.insert(user).values(
                id="usr_1", username="alice", is_admin=False, created_at=at
            )
        )
        connection.execute(
            sa.insert(session).values(
                id="ses_1",
                user_id="usr_1",
                token_hash="0" * 64,
                device="cli",
                created_at=at,
                last_active_at=at,
                expires_at=at + timedelta(days=1),
            )
        )
        connection.execute(
            sa.insert(org).values(id="org_1", slug="acme", name="Acme", created_at=at)
        )
        connection.commit()

    on(empty_url, insert)
    upgrade(empty_url)

    async def read(tx: Tx) -> Any:
        return await tx.sessions.get("ses_1")

    found = stored(empty_url, read)
    assert found is not None
    assert (found.auth_time, found.amr) == (at, ())
    require_mfa = on(
        empty_url,
        lambda c: c.execute(sa.text("SELECT require_mfa FROM orgs")).scalar_one(),
    )
    assert require_mfa in (False, 0)
    downgrade(empty_url, "0009")
    assert "amr" not in columns(empty_url, "sessions")
