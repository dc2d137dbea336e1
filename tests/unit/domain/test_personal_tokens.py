"""Personal access tokens: bounded lifetime, known scopes, admin only by name
and only from an admin."""

from datetime import timedelta

import pytest

from authgate.domain import credentials, personal_tokens
from authgate.domain.passwords import Hasher
from authgate.errors import Forbidden, InvalidRequest
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import PEER, register

pytestmark = pytest.mark.anyio

PERSON = credentials.Parent(scopes=frozenset({"read", "write"}))
ADMIN = credentials.Parent(scopes=frozenset(personal_tokens.SCOPES))


async def create(
    stores: MemoryStores,
    user_id: str,
    *,
    days: int = 30,
    scopes: list[str] | None = None,
    parent: credentials.Parent = PERSON,
) -> credentials.Credential:
    credential, _ = await personal_tokens.create(
        stores,
        prefix="ag",
        user_id=user_id,
        name="ci",
        expires_in_days=days,
        max_days=90,
        scopes=scopes,
        org_id=None,
        peer=PEER,
        parent=parent,
    )
    return credential


def test_scopes() -> None:
    assert personal_tokens.check_scopes(None) == ("read", "write")
    assert personal_tokens.check_scopes(["write", "read"]) == ("read", "write")
    with pytest.raises(InvalidRequest, match="Unknown scope: delete"):
        personal_tokens.check_scopes(["read", "delete"])
    with pytest.raises(InvalidRequest, match="at least one"):
        personal_tokens.check_scopes([])


async def test_a_token_always_expires_within_the_maximum(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    credential = await create(stores, alice.id, days=90)
    assert credential.expires_at is not None
    assert credential.expires_at - clock.now() <= timedelta(days=90)
    for days in (0, 91):
        with pytest.raises(InvalidRequest, match="between 1 and 90"):
            await create(stores, alice.id, days=days)


async def test_admin_scope_is_never_a_default_and_needs_an_admin_parent(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    assert "admin" not in (await create(stores, alice.id, parent=ADMIN)).scopes
    with pytest.raises(Forbidden, match="admin scope"):
        await create(stores, alice.id, scopes=["admin"])
    made = await create(stores, alice.id, scopes=["read", "admin"], parent=ADMIN)
    assert made.scopes == ("read", "admin")


async def test_a_read_only_token_cannot_make_a_writer(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    reader = credentials.Parent(scopes=frozenset({"read"}))
    with pytest.raises(Forbidden):
        await create(stores, alice.id, parent=reader)
    assert await stores.credentials.list_for_user(alice.id, "pat") == []
