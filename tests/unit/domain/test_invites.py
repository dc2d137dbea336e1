"""Invites: single use, expiring, revocable only by their own scope."""

import pytest

from authgate.domain import audit, invites
from authgate.errors import Forbidden, InvalidRequest, NotFound
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import PEER

pytestmark = pytest.mark.anyio


async def create(
    stores: MemoryStores, days: int | None = 7, org_id: str | None = None
) -> tuple[invites.Invite, str]:
    return await invites.create(
        stores,
        prefix="ag",
        created_by=None,
        expires_in_days=days,
        peer=PEER,
        org_id=org_id,
    )


async def test_a_code_is_good_for_one_account(stores: MemoryStores) -> None:
    invite, code = await create(stores)
    assert code.startswith("ag_inv_")
    assert await invites.find_usable(stores, f" {code} ") == invite
    await invites.consume(stores, invite, "usr_1", PEER)
    with pytest.raises(Forbidden):
        await invites.find_usable(stores, code)
    with pytest.raises(Forbidden):  # a registration racing with the same code
        await invites.consume(stores, invite, "usr_2", PEER)
    assert stores.audit.actions() == [
        audit.Action.INVITE_CREATED,
        audit.Action.INVITE_USED,
    ]


async def test_an_invite_expires(stores: MemoryStores) -> None:
    invite, code = await create(stores, days=1)
    clock.advance(86400)
    assert invite.status == "expired"
    with pytest.raises(Forbidden, match="invalid, used or expired"):
        await invites.find_usable(stores, code)


async def test_an_invite_without_expiry_stays(stores: MemoryStores) -> None:
    invite, code = await create(stores, days=None)
    assert invite.expires_at is None
    clock.advance(400 * 86400)
    assert await invites.find_usable(stores, code) == invite


@pytest.mark.parametrize("days", [0, invites.MAX_DAYS + 1])
async def test_expiry_is_bounded(stores: MemoryStores, days: int) -> None:
    with pytest.raises(InvalidRequest):
        await create(stores, days=days)


async def test_revoke_only_within_its_scope(stores: MemoryStores) -> None:
    invite, code = await create(stores, org_id="org_1")
    with pytest.raises(NotFound):  # not an instance invite
        await invites.revoke(stores, invite.id, actor_id="usr_1", peer=PEER)
    with pytest.raises(NotFound):
        await invites.revoke(
            stores, invite.id, actor_id="usr_1", peer=PEER, org_id="org_2"
        )
    await invites.revoke(stores, invite.id, actor_id="usr_1", peer=PEER, org_id="org_1")
    with pytest.raises(Forbidden):
        await invites.find_usable(stores, code)
    with pytest.raises(NotFound):  # no longer unused
        await invites.revoke(
            stores, invite.id, actor_id="usr_1", peer=PEER, org_id="org_1"
        )
