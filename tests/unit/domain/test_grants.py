"""Grants: codes used once (a replay revokes what they issued), device
polling, and consents remembered, widened and withdrawn."""

from datetime import timedelta

import pytest

from authgate.domain import audit, grants, refresh_tokens
from authgate.domain.passwords import Hasher
from authgate.errors import NotFound
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import ACCESS_TTL, PEER, register

LIFETIME = refresh_tokens.Lifetime(idle=timedelta(days=1), max=timedelta(days=30))


def test_user_codes_use_the_consonant_alphabet() -> None:
    for _ in range(200):
        code = grants.new_user_code()
        assert len(code) == 8
        assert set(code) <= set("BCDFGHJKLMNPQRSTVWXZ")


def test_user_codes_are_shown_with_a_dash() -> None:
    assert grants.format_user_code("WDJBMJHT") == "WDJB-MJHT"


@pytest.mark.parametrize(
    "typed", ["WDJB-MJHT", "wdjb-mjht", "wdjbmjht", " WDJB MJHT ", "wDjB-mJhT"]
)
def test_user_codes_are_accepted_as_people_type_them(typed: str) -> None:
    assert grants.normalize_user_code(typed) == "WDJBMJHT"


@pytest.mark.parametrize(
    "typed", ["", "WDJB-MJH", "WDJB-MJHTX", "WDJA-MJHT", "1234-5678"]
)
def test_impossible_user_codes(typed: str) -> None:
    assert grants.normalize_user_code(typed) is None


async def issue_code(
    stores: MemoryStores, user_id: str, client_id: str = "cl_app"
) -> tuple[grants.AuthorizationCode, str]:
    return await grants.issue_code(
        stores,
        prefix="ag",
        client_id=client_id,
        user_id=user_id,
        redirect_uri=None,
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        scope="openid read",
        resources=["https://api.example", "https://mcp.example"],
        nonce=None,
        authentication=None,
        peer=PEER,
    )


@pytest.mark.anyio
async def test_a_code_is_redeemed_once(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    code, secret = await issue_code(stores, alice.id)
    assert code.resources == ("https://api.example", "https://mcp.example")
    found = await grants.find_code(stores, secret)
    assert found == code
    assert await grants.redeem_code(stores, code, peer=PEER) is True
    assert await grants.redeem_code(stores, code, peer=PEER) is False
    used = await grants.find_code(stores, secret)
    assert used is not None
    assert await grants.redeem_code(stores, used, peer=PEER) is False
    assert stores.audit.actions().count(audit.Action.CODE_REDEEMED) == 1


@pytest.mark.anyio
async def test_a_replayed_code_revokes_what_it_issued(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    code, _ = await issue_code(stores, alice.id)
    await grants.redeem_code(stores, code, peer=PEER)
    issued = await refresh_tokens.issue(
        stores,
        prefix="ag",
        lifetime=LIFETIME,
        user_id=alice.id,
        family_id=code.id,
        family_created_at=clock.now(),
        client_id="cl_app",
    )
    await grants.code_replayed(stores, code, access_ttl=ACCESS_TTL, peer=PEER)
    token = stores.refresh_tokens.rows[issued.token.id]
    assert token.revoked_at is not None
    assert code.id in stores.revocations.rows  # its access tokens (``gid``)
    assert code.id in stores.invalidated
    assert stores.audit.actions()[-1] == audit.Action.CODE_REPLAYED


@pytest.mark.anyio
async def test_old_codes_are_pruned_as_new_ones_are_issued(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    old, old_secret = await issue_code(stores, alice.id)
    clock.advance((grants.CODE_TTL + grants.CODE_RETENTION).total_seconds() + 1)
    await issue_code(stores, alice.id)
    assert await grants.find_code(stores, old_secret) is None
    assert old.id not in stores.authorization_codes.rows


@pytest.mark.anyio
async def test_ending_a_users_grants_covers_codes_without_refresh_tokens(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    app, _ = await issue_code(stores, alice.id)
    other, _ = await issue_code(stores, alice.id, client_id="cl_other")
    for code in (app, other):
        await grants.redeem_code(stores, code, peer=PEER)
    families = await grants.revoke_user_grants(
        stores, alice.id, client_id="cl_app", access_ttl=ACCESS_TTL
    )
    assert families == []  # no refresh family...
    assert list(stores.revocations.rows) == [app.id]  # ...but its access tokens


async def start_device(stores: MemoryStores) -> grants.StartedDevice:
    return await grants.start_device(
        stores,
        prefix="ag",
        client_id="authgate-cli",
        scope="read",
        resources=[],
        ttl=timedelta(minutes=10),
    )


async def poll(stores: MemoryStores, started: grants.StartedDevice) -> grants.Poll:
    device = await grants.find_device(stores, started.device_code)
    assert device is not None
    result, _ = await grants.poll_device(stores, device, peer=PEER)
    return result


@pytest.mark.anyio
async def test_device_polling(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    started = await start_device(stores)
    assert await poll(stores, started) is grants.Poll.PENDING
    assert await poll(stores, started) is grants.Poll.SLOW_DOWN
    device = await grants.find_device(stores, started.device_code)
    assert device is not None
    assert device.interval == grants.DEVICE_INTERVAL + grants.SLOW_DOWN_STEP
    clock.advance(grants.DEVICE_INTERVAL + grants.SLOW_DOWN_STEP)
    assert await poll(stores, started) is grants.Poll.PENDING  # waited enough
    typed = grants.format_user_code(started.user_code).lower()
    pending = await grants.pending_device(stores, typed)
    assert pending is not None
    assert await grants.decide_device(
        stores, pending, user_id=alice.id, authentication=None, approve=True, peer=PEER
    )
    assert not await grants.decide_device(
        stores, pending, user_id=alice.id, authentication=None, approve=False, peer=PEER
    )
    assert await grants.pending_device(stores, typed) is None
    assert await poll(stores, started) is grants.Poll.APPROVED
    assert await poll(stores, started) is grants.Poll.USED
    assert audit.Action.DEVICE_CODE_REDEEMED in stores.audit.actions()


@pytest.mark.anyio
async def test_a_denied_or_expired_device_code(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    denied = await start_device(stores)
    pending = await grants.pending_device(stores, denied.user_code)
    assert pending is not None
    await grants.decide_device(
        stores, pending, user_id=alice.id, authentication=None, approve=False, peer=PEER
    )
    assert await poll(stores, denied) is grants.Poll.DENIED
    expiring = await start_device(stores)
    clock.advance(timedelta(minutes=10).total_seconds())
    assert await poll(stores, expiring) is grants.Poll.EXPIRED
    assert await grants.pending_device(stores, expiring.user_code) is None


@pytest.mark.anyio
async def test_consent_widens_and_covers(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")

    async def remembered(scopes: list[str], resources: list[str]) -> bool:
        return await grants.remembered(
            stores,
            user_id=alice.id,
            client_id="cl_app",
            scopes=scopes,
            resources=resources,
        )

    assert not await remembered(["read"], [])
    first = await grants.give_consent(
        stores,
        user_id=alice.id,
        client_id="cl_app",
        scopes=["openid", "read"],
        resources=["https://api.example"],
        peer=PEER,
    )
    clock.advance(60)
    widened = await grants.give_consent(
        stores,
        user_id=alice.id,
        client_id="cl_app",
        scopes=["read", "write"],
        resources=[],
        peer=PEER,
    )
    assert (widened.scope, widened.resource) == (
        "openid read write",
        "https://api.example",
    )
    assert widened.created_at == first.created_at
    assert await remembered(["write", "openid"], ["https://api.example"])
    assert not await remembered(["admin"], [])
    assert not await remembered(["read"], ["https://other.example"])
    [app] = await grants.authorized_apps(stores, alice.id)
    assert (app.client_id, app.name, app.last_used_at) == ("cl_app", "cl_app", None)


@pytest.mark.anyio
async def test_withdrawing_consent_revokes_the_clients_tokens(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await grants.give_consent(
        stores,
        user_id=alice.id,
        client_id="cl_app",
        scopes=["read"],
        resources=[],
        peer=PEER,
    )
    app = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_app"
    )
    other = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_b"
    )
    await grants.withdraw_consent(
        stores,
        user_id=alice.id,
        client_id="cl_app",
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )
    assert stores.refresh_tokens.rows[app.token.id].revoked_at is not None
    assert stores.refresh_tokens.rows[other.token.id].revoked_at is None
    assert stores.audit.events[-1].details == {"grants": [app.token.family_id]}
    with pytest.raises(NotFound):
        await grants.withdraw_consent(
            stores,
            user_id=alice.id,
            client_id="cl_app",
            access_ttl=ACCESS_TTL,
            peer=PEER,
        )
