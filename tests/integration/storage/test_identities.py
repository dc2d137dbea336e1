"""Conformance of ``IdentityStore``: upstream identities and organizations
linked to Authgate users and orgs."""

from typing import Any

import pytest
from sqlalchemy import text

from authgate.domain.identities import ExternalIdentity
from authgate.domain.orgs import Org
from authgate.errors import Conflict
from authgate.storage.db import Database
from authgate.util.ids import new_id
from tests.integration.storage.factories import T0, add_user

pytestmark = pytest.mark.anyio


def link(user_id: str, subject: str = "sub-1", **fields: Any) -> ExternalIdentity:
    values: dict[str, Any] = {
        "provider": "oidc",
        "subject": subject,
        "user_id": user_id,
        "email": "a@example.com",
        "created_at": T0,
        **fields,
    }
    return ExternalIdentity(**values)


async def test_add_get_and_list(db: Database) -> None:
    user = await add_user(db)
    first = link(user.id, "s1")
    second = link(user.id, "user_01", provider="workos", email=None)
    async with db.transaction() as tx:
        await tx.identities.add(first)
        await tx.identities.add(second)
    async with db.transaction() as tx:
        assert await tx.identities.get("oidc", "s1") == first
        assert await tx.identities.get("workos", "user_01") == second
        assert await tx.identities.get("workos", "s1") is None
        assert await tx.identities.for_user(user.id) == [first, second]


async def test_one_subject_links_one_user(db: Database) -> None:
    alice, bob = await add_user(db), await add_user(db)
    async with db.transaction() as tx:
        await tx.identities.add(link(alice.id))
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.identities.add(link(bob.id))


async def test_links_go_with_the_user(db: Database) -> None:
    user = await add_user(db)
    async with db.transaction() as tx:
        await tx.identities.add(link(user.id))
    async with db.transaction() as tx:
        await tx.session.execute(
            text("DELETE FROM users WHERE id = :id"), {"id": user.id}
        )
    async with db.transaction() as tx:
        assert await tx.identities.get("oidc", "sub-1") is None


async def test_organization_links(db: Database) -> None:
    org = Org(id=new_id("org"), slug=new_id("s").lower(), name="Acme", created_at=T0)
    async with db.transaction() as tx:
        await tx.orgs.add(org)
        assert await tx.identities.org("workos", "org_01") is None
        await tx.identities.add_org("workos", "org_01", org.id, T0)
    async with db.transaction() as tx:
        assert await tx.identities.org("workos", "org_01") == org.id
        assert await tx.identities.org("oidc", "org_01") is None
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.identities.add_org("workos", "org_01", org.id, T0)
