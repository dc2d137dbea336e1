"""Signing keys: the store, and the private halves encrypted at rest under a key
derived from the server secret."""

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from authgate.app import build_services
from authgate.domain import derived_keys, signing_keys
from authgate.domain.context import NO_PEER
from authgate.domain.signing_keys import KeyCipher, WrongSecret
from authgate.storage.db import Database
from authgate.util import clock
from tests.conftest import MakeSettings
from tests.integration.storage.factories import T0
from tests.support.asserts import present

pytestmark = pytest.mark.anyio

OTHER_SECRET = "another-server-secret-0123456789abcdef"
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def cipher(secret: str) -> KeyCipher:
    return KeyCipher(derived_keys.derive(secret.encode(), "signing-keys"))


async def test_store_add_all_retire(db: Database) -> None:
    keys = cipher("s" * 32)
    es = replace(signing_keys._generate("ES256", keys), created_at=T0)
    rs = replace(
        signing_keys._generate("RS256", keys), created_at=T0 + timedelta(seconds=1)
    )
    newer = replace(
        signing_keys._generate("ES256", keys), created_at=T0 + timedelta(seconds=2)
    )
    async with db.transaction() as tx:
        for key in (es, rs, newer):
            await tx.signing_keys.add(key)
    async with db.transaction() as tx:
        assert await tx.signing_keys.all() == [newer, rs, es]  # newest first
        at = T0 + timedelta(minutes=1)
        retired = await tx.signing_keys.retire_active("ES256", at)
        assert sorted(retired) == sorted([es.kid, newer.kid])
        assert await tx.signing_keys.retire_active("ES256", at) == []
    async with db.transaction() as tx:
        found = {k.kid: k.retired_at for k in await tx.signing_keys.all()}
    assert found == {es.kid: at, newer.kid: at, rs.kid: None}


async def raw_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read() as tx:
        result = await tx.session.execute(text("SELECT * FROM signing_keys"))
        return [dict(row._mapping) for row in result]


async def test_private_keys_are_encrypted_at_rest(
    make_settings: MakeSettings, db: Database
) -> None:
    settings = make_settings()
    services = build_services(settings)
    try:
        await services.keys.load()
        kid, _private = services.keys.ring.signer("ES256")
    finally:
        await services.db.close()

    rows = await raw_rows(db)
    assert {r["alg"] for r in rows} >= {"ES256", "RS256"}
    for row in rows:
        for value in row.values():
            raw = value if isinstance(value, bytes) else json.dumps(value, default=str)
            data = raw if isinstance(raw, bytes) else raw.encode()
            assert b"PRIVATE KEY" not in data
            assert b"-----BEGIN" not in data
        public = row["public_jwk"]
        public = json.loads(public) if isinstance(public, str) else public
        assert not PRIVATE_JWK_MEMBERS & set(public), public

    # the server's own secret opens them (so the check above is meaningful) ...
    secret = present(settings.secret_key).get_secret_value()
    sealed = {r["kid"]: bytes(r["private_encrypted"]) for r in rows}
    assert b"PRIVATE KEY" in cipher(secret).open(kid, sealed[kid])
    # ... another secret does not
    with pytest.raises(WrongSecret):
        cipher(OTHER_SECRET).open(kid, sealed[kid])
    # and a sealed key cannot be moved onto another row
    other_kid = next(k for k in sealed if k != kid)
    with pytest.raises(WrongSecret):
        cipher(secret).open(other_kid, sealed[kid])


async def test_a_server_with_another_secret_cannot_load_the_keys(
    make_settings: MakeSettings,
) -> None:
    first = build_services(make_settings())
    try:
        await first.keys.load()
    finally:
        await first.db.close()
    second = build_services(make_settings(secret_key=OTHER_SECRET))
    try:
        with pytest.raises(WrongSecret):
            await second.keys.load()
    finally:
        await second.db.close()


async def test_rotation_keeps_the_old_key_published_until_retention_ends(
    db: Database,
) -> None:
    keys = cipher("s" * 32)
    async with db.transaction() as tx:
        await signing_keys.ensure(tx, keys)
        old_kid = next(k.kid for k in await tx.signing_keys.all() if k.alg == "ES256")
    async with db.transaction() as tx:
        new_kids = await signing_keys.rotate(tx, keys, actor_id=None, peer=NO_PEER)
        stored = await tx.signing_keys.all()
    retention = timedelta(minutes=20)
    ring = signing_keys.KeyRing(stored, keys, retention)
    assert ring.signer("ES256")[0] in new_kids
    published = {k["kid"] for k in ring.jwks()["keys"]}
    assert old_kid in published
    assert set(new_kids) <= published
    assert ring.public_key(old_kid) is not None
    clock.advance(retention.total_seconds() + 1)
    later = signing_keys.KeyRing(stored, keys, retention)
    assert old_kid not in {k["kid"] for k in later.jwks()["keys"]}
    assert later.public_key(old_kid) is None
