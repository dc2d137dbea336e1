"""API keys: read or read-write, no expiry unless asked or inherited."""

from datetime import timedelta

import pytest

from authgate.domain import api_keys, credentials
from authgate.domain.passwords import Hasher
from authgate.errors import Forbidden, InvalidRequest
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import PEER, register

pytestmark = pytest.mark.anyio

PERSON = credentials.Parent(scopes=frozenset({"read", "write"}))


async def create(
    stores: MemoryStores,
    user_id: str,
    permission: api_keys.Permission,
    *,
    days: int | None = None,
    parent: credentials.Parent = PERSON,
) -> credentials.Credential:
    key, secret = await api_keys.create(
        stores,
        prefix="ag",
        user_id=user_id,
        name="deploy",
        permission=permission,
        expires_in_days=days,
        org_id="org_1",
        peer=PEER,
        parent=parent,
    )
    assert secret.startswith("ag_key_")
    return key


async def test_permissions_are_scopes(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    reader = await create(stores, alice.id, "read")
    writer = await create(stores, alice.id, "write")
    assert (reader.scopes, writer.scopes) == (("read",), ("read", "write"))
    assert api_keys.permission_of(reader.scopes) == "read"
    assert api_keys.permission_of(writer.scopes) == "write"
    assert (reader.expires_at, reader.org_id) == (None, "org_1")


async def test_expiry_is_bounded(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    for days in (0, api_keys.MAX_DAYS + 1):
        with pytest.raises(InvalidRequest):
            await create(stores, alice.id, "read", days=days)


async def test_a_key_made_with_a_token_ends_with_it(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    end = clock.now() + timedelta(days=1)
    token = credentials.Parent(scopes=frozenset({"read"}), expires_at=end)
    assert (await create(stores, alice.id, "read", parent=token)).expires_at == end
    with pytest.raises(Forbidden):
        await create(stores, alice.id, "write", parent=token)
