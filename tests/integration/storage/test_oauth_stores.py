"""Conformance of the authorization server's stores (``domain.clients``,
``domain.grants``, ``domain.revocations``) on every database."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from authgate.domain.assurance import Authentication
from authgate.domain.clients import Client
from authgate.domain.grants import (
    AuthorizationCode,
    Consent,
    DeviceCode,
    DeviceStatus,
)
from authgate.storage.db import Database, Tx
from authgate.util import tokens
from authgate.util.ids import new_id
from tests.integration.storage.factories import (
    T0,
    add_user,
    concurrently,
    refresh_token,
)
from tests.support.asserts import present

pytestmark = pytest.mark.anyio


#: how the person approved (codes and refresh tokens keep it)
SIGNED_IN = Authentication(T0, ("mfa", "otp", "pwd"))


def client(**fields: Any) -> Client:
    values: dict[str, Any] = {
        "id": new_id("cl"),
        "name": "Example",
        "redirect_uris": ("http://127.0.0.1/cb", "https://app.example/cb"),
        "grant_types": ("authorization_code", "refresh_token"),
        "auth_method": "client_secret_basic",
        "created_at": T0,
        "scope": "openid read",
        "secret_hash": tokens.digest(tokens.mint("ag", "cs")),
        "registration": "admin",
    }
    values.update(fields)
    return Client(**values)


def code(user_id: str, **fields: Any) -> tuple[AuthorizationCode, str]:
    values: dict[str, Any] = {
        "id": new_id("gr"),
        "client_id": "cl_x",
        "user_id": user_id,
        "redirect_uri": "http://127.0.0.1:5000/cb",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "scope": "openid read",
        "resource": "https://api.example https://mcp.example/mcp",
        "created_at": T0,
        "expires_at": T0 + timedelta(seconds=60),
        "authentication": SIGNED_IN,
        "nonce": "n",
    }
    values.update(fields)
    return AuthorizationCode(**values), tokens.digest(tokens.mint("ag", "ac"))


def device(**fields: Any) -> tuple[DeviceCode, str, str]:
    values: dict[str, Any] = {
        "id": new_id("gr"),
        "client_id": "cl_x",
        "scope": "read",
        "resource": "https://api.example",
        "created_at": T0,
        "expires_at": T0 + timedelta(minutes=10),
    }
    values.update(fields)
    return (
        DeviceCode(**values),
        tokens.digest(tokens.mint("ag", "dc")),
        tokens.digest(new_id("uc")),
    )


async def test_clients(db: Database) -> None:
    creator = await add_user(db)
    first = client(created_by=creator.id)
    public = client(
        auth_method="none", secret_hash=None, scope=None, registration="dynamic"
    )
    async with db.transaction() as tx:
        await tx.clients.add(first)
        await tx.clients.add(public)
    async with db.transaction() as tx:
        assert await tx.clients.get(first.id) == first
        assert await tx.clients.get(public.id) == public
        assert await tx.clients.get("cl_missing") is None
        assert {c.id for c in await tx.clients.all()} >= {first.id, public.id}
        assert await tx.clients.delete(first.id) is True
        assert await tx.clients.delete(first.id) is False
    async with db.transaction() as tx:
        assert await tx.clients.get(first.id) is None


async def test_authorization_codes_are_used_once(db: Database) -> None:
    alice = await add_user(db)
    value, code_hash = code(alice.id)
    async with db.transaction() as tx:
        await tx.authorization_codes.add(value, code_hash)
    async with db.transaction() as tx:
        assert await tx.authorization_codes.by_hash(code_hash) == value

    async def use(tx: Tx) -> bool:
        return await tx.authorization_codes.mark_used(value.id, T0)

    assert sorted(await concurrently(db, 2, use)) == [False, True]
    async with db.transaction() as tx:
        used = await tx.authorization_codes.by_hash(code_hash)
    assert used == replace(value, used_at=T0)


async def test_prune_codes(db: Database) -> None:
    alice = await add_user(db)
    old, old_hash = code(alice.id, expires_at=T0 - timedelta(days=2))
    new, new_hash = code(alice.id)
    async with db.transaction() as tx:
        await tx.authorization_codes.add(old, old_hash)
        await tx.authorization_codes.add(new, new_hash)
        assert await tx.authorization_codes.prune(T0 - timedelta(days=1)) == 1
    async with db.transaction() as tx:
        assert await tx.authorization_codes.by_hash(old_hash) is None
        assert await tx.authorization_codes.by_hash(new_hash) == new


async def test_device_codes(db: Database) -> None:
    alice = await add_user(db)
    value, device_hash, user_hash = device()
    async with db.transaction() as tx:
        await tx.device_codes.add(value, device_hash, user_hash)
    async with db.transaction() as tx:
        assert await tx.device_codes.by_device_code_hash(device_hash) == value
        assert await tx.device_codes.by_user_code_hash(user_hash) == value
        await tx.device_codes.record_poll(value.id, T0, 10)
        # Not approved yet: cannot be used.
        assert await tx.device_codes.mark_used(value.id, T0) is False

    async def approve(tx: Tx) -> bool:
        return await tx.device_codes.decide(
            value.id, DeviceStatus.APPROVED, alice.id, T0, SIGNED_IN
        )

    assert sorted(await concurrently(db, 2, approve)) == [False, True]

    async def use(tx: Tx) -> bool:
        return await tx.device_codes.mark_used(value.id, T0)

    assert sorted(await concurrently(db, 2, use)) == [False, True]
    async with db.transaction() as tx:
        found = await tx.device_codes.by_device_code_hash(device_hash)
    assert found == replace(
        value,
        status=DeviceStatus.USED,
        user_id=alice.id,
        decided_at=T0,
        last_polled_at=T0,
        interval=10,
        authentication=SIGNED_IN,
    )


async def test_newest_device_code_wins_a_user_code(db: Database) -> None:
    first, first_hash, user_hash = device()
    second, second_hash, _ = device(created_at=T0 + timedelta(seconds=1))
    async with db.transaction() as tx:
        await tx.device_codes.add(first, first_hash, user_hash)
        await tx.device_codes.add(second, second_hash, user_hash)
    async with db.transaction() as tx:
        assert (await tx.device_codes.by_user_code_hash(user_hash)) == second


async def test_consents_upsert(db: Database) -> None:
    alice = await add_user(db)
    consent = Consent(alice.id, "cl_x", "read", "https://api.example", T0, T0)
    async with db.transaction() as tx:
        assert await tx.consents.get(alice.id, "cl_x") is None
        await tx.consents.save(consent)
    later = replace(consent, scope="read write", updated_at=T0 + timedelta(hours=1))
    async with db.transaction() as tx:
        await tx.consents.save(later)
    async with db.transaction() as tx:
        assert await tx.consents.get(alice.id, "cl_x") == later
        assert await tx.consents.delete_for_client("cl_x") == 1
        assert await tx.consents.get(alice.id, "cl_x") is None


async def test_revocations(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.revocations.add("at_1", T0 + timedelta(minutes=15))
        # An earlier ``until`` never shortens a record.
        await tx.revocations.add("at_1", T0 + timedelta(minutes=5))
        await tx.revocations.add("gr_2", T0 + timedelta(minutes=1))
    async with db.transaction() as tx:
        assert await tx.revocations.any_revoked(["x", "at_1"], T0) is True
        assert await tx.revocations.any_revoked(["x", "y"], T0) is False
        later = T0 + timedelta(minutes=10)
        assert await tx.revocations.any_revoked(["at_1"], later) is True
        assert await tx.revocations.any_revoked(["gr_2"], later) is False
        assert sorted(await tx.revocations.in_force(T0)) == ["at_1", "gr_2"]
        assert await tx.revocations.in_force(later) == ["at_1"]
        assert await tx.revocations.prune(later) == 1

    async def revoke(tx: Tx) -> None:
        await tx.revocations.add("at_3", T0 + timedelta(minutes=1))

    await concurrently(db, 2, revoke)
    async with db.transaction() as tx:
        assert await tx.revocations.any_revoked(["at_3"], T0) is True


async def test_refresh_tokens_revoked_for_a_client(db: Database) -> None:
    alice = await add_user(db)
    a, a_hash = refresh_token(alice.id, client_id="cl_a")
    b, b_hash = refresh_token(alice.id, client_id="cl_a", family_id=a.id)
    c, c_hash = refresh_token(alice.id, client_id="cl_c")
    async with db.transaction() as tx:
        for value, token_hash in ((a, a_hash), (b, b_hash), (c, c_hash)):
            await tx.refresh_tokens.add(value, token_hash)
    async with db.transaction() as tx:
        assert await tx.refresh_tokens.revoke_for_client("cl_a", T0) == [a.id]
    async with db.transaction() as tx:
        assert present(await tx.refresh_tokens.by_hash(b_hash)).revoked_at == T0
        assert present(await tx.refresh_tokens.by_hash(c_hash)).revoked_at is None
