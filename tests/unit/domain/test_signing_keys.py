"""Signing keys: one active per algorithm, private halves sealed to their kid,
retired keys published until every token they signed has expired."""

import os
from datetime import timedelta

import pytest

from authgate.domain import audit, signing_keys
from authgate.domain.signing_keys import KeyCipher, KeyRing, WrongSecret
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import PEER

pytestmark = pytest.mark.anyio

RETENTION = timedelta(hours=1)


@pytest.fixture
def cipher() -> KeyCipher:
    return KeyCipher(os.urandom(32))


async def test_first_start_makes_one_key_per_algorithm(
    stores: MemoryStores, cipher: KeyCipher
) -> None:
    await signing_keys.ensure(stores, cipher)
    await signing_keys.ensure(stores, cipher)
    keys = await stores.signing_keys.all()
    assert sorted(k.alg for k in keys) == ["ES256", "RS256"]
    ring = KeyRing(keys, cipher, RETENTION)
    assert {ring.signer(alg)[0] for alg in signing_keys.ALGORITHMS} == {
        k.kid for k in keys
    }
    assert all(k.public_jwk["kid"] == k.kid for k in keys)
    assert all("d" not in k.public_jwk for k in keys)  # no private part


async def test_rotation_signs_with_new_keys_and_publishes_the_old_a_while(
    stores: MemoryStores, cipher: KeyCipher
) -> None:
    await signing_keys.ensure(stores, cipher)
    old = {k.alg: k.kid for k in await stores.signing_keys.all()}
    new = await signing_keys.rotate(stores, cipher, actor_id=None, peer=PEER)
    assert stores.invalidated == [signing_keys.RING]
    assert stores.audit.events[-1].action == audit.Action.KEYS_ROTATED
    assert stores.audit.events[-1].details["new"] == new
    ring = KeyRing(await stores.signing_keys.all(), cipher, RETENTION)
    assert ring.signer("ES256")[0] in new
    assert ring.public_key(old["ES256"]) is not None  # tokens it signed verify
    assert len(ring.jwks()["keys"]) == 4
    clock.advance(RETENTION.total_seconds())
    ring = KeyRing(await stores.signing_keys.all(), cipher, RETENTION)
    assert ring.public_key(old["ES256"]) is None
    assert {k["kid"] for k in ring.jwks()["keys"]} == set(new)


async def test_published_until(stores: MemoryStores, cipher: KeyCipher) -> None:
    await signing_keys.ensure(stores, cipher)
    await signing_keys.rotate(stores, cipher, actor_id=None, peer=PEER)
    for key in await stores.signing_keys.all():
        until = signing_keys.published_until(key, RETENTION)
        assert until == (key.retired_at + RETENTION if key.retired_at else None)


def test_a_sealed_key_opens_only_with_its_secret_and_kid() -> None:
    cipher = KeyCipher(os.urandom(32))
    sealed = cipher.seal("kid-1", b"private pem")
    assert cipher.open("kid-1", sealed) == b"private pem"
    with pytest.raises(WrongSecret):
        cipher.open("kid-2", sealed)  # swapped onto another row
    with pytest.raises(WrongSecret):
        KeyCipher(os.urandom(32)).open("kid-1", sealed)
