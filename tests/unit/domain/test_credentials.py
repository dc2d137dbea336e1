"""PATs and API keys alike: the parent's ceiling, presenting a secret, and
revocation."""

from datetime import datetime, timedelta

import pytest

from authgate.domain import audit, credentials, users
from authgate.domain.passwords import Hasher
from authgate.errors import Forbidden, InvalidRequest, InvalidToken, NotFound
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import ACCESS_TTL, PEER, register

pytestmark = pytest.mark.anyio

DAY = timedelta(days=1)


async def issue(
    stores: MemoryStores,
    user_id: str,
    *,
    kind: credentials.CredentialKind = "pat",
    expires_at: datetime | None = None,
) -> tuple[credentials.Credential, str]:
    return await credentials.issue(
        stores,
        kind=kind,
        prefix="ag",
        user_id=user_id,
        name=" ci ",
        scopes=("read",),
        expires_at=expires_at,
        org_id=None,
        peer=PEER,
    )


def test_a_child_holds_no_scope_its_parent_lacks() -> None:
    parent = credentials.Parent(scopes=frozenset({"read"}))
    assert parent.bound(("read",), None) is None
    with pytest.raises(Forbidden, match="write"):
        parent.bound(("read", "write"), None)


def test_a_child_never_outlives_its_parent() -> None:
    end = clock.now() + 10 * DAY
    parent = credentials.Parent(scopes=frozenset({"read"}), expires_at=end)
    assert parent.bound(("read",), None) == end  # "for ever" ends with it
    assert parent.bound(("read",), end - DAY) == end - DAY
    # Within the parent's last day it simply ends with the parent...
    assert parent.bound(("read",), end + DAY / 2) == end
    # ...beyond, it is refused.
    with pytest.raises(Forbidden):
        parent.bound(("read",), end + DAY)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there"])
def test_names(name: str) -> None:
    with pytest.raises(InvalidRequest):
        credentials.check_name(name)


async def test_the_secret_is_shown_once_and_only_its_hash_kept(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    credential, secret = await issue(stores, alice.id)
    assert secret.startswith("ag_pat_")
    assert credential.name == "ci"
    assert secret not in stores.credentials.hashes
    assert stores.audit.events[-1].action == audit.Action.PAT_CREATED
    presented = await credentials.present(stores, secret)
    assert presented.answer == credential


async def test_expired_and_revoked_secrets_are_refused_with_their_reason(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    _, expiring_secret = await issue(stores, alice.id, expires_at=clock.now() + DAY)
    revoked, revoked_secret = await issue(stores, alice.id)
    await credentials.revoke(
        stores, revoked.id, kind="pat", user_id=alice.id, peer=PEER
    )
    clock.advance(DAY.total_seconds())
    answers = [
        (await credentials.present(stores, s)).answer
        for s in (expiring_secret, revoked_secret, "ag_pat_unknown")
    ]
    assert [str(a) for a in answers if isinstance(a, InvalidToken)] == [
        "The token has expired.",
        "The token has been revoked.",
        "The token is not valid.",
    ]


async def test_use_is_written_at_most_once_a_minute(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    credential, secret = await issue(stores, alice.id)
    first = await credentials.present(stores, secret)
    assert first.to_record
    await credentials.record_use(stores, first, PEER)
    assert not (await credentials.present(stores, secret)).to_record
    clock.advance(credentials.TOUCH_INTERVAL.total_seconds())
    later = await credentials.present(stores, secret)
    assert later.to_record
    await credentials.record_use(stores, later, PEER)
    stored = await stores.credentials.get(credential.id)
    assert stored is not None
    assert stored.last_used_at == later.at


async def test_use_of_a_revoked_secret_is_audited_at_first_then_sparingly(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    credential, secret = await issue(stores, alice.id)
    await credentials.record_use(
        stores, await credentials.present(stores, secret), PEER
    )
    await credentials.revoke(
        stores, credential.id, kind="pat", user_id=alice.id, peer=PEER
    )
    for _ in range(3):  # the first use after revocation is always audited
        await credentials.record_use(
            stores, await credentials.present(stores, secret), PEER
        )
    used = audit.Action.CREDENTIAL_USED_AFTER_REVOKE
    assert stores.audit.actions().count(used) == 1
    clock.advance(credentials.TOUCH_INTERVAL.total_seconds())
    await credentials.record_use(
        stores, await credentials.present(stores, secret), PEER
    )
    assert stores.audit.actions().count(used) == 2


async def test_only_the_owner_revokes_and_only_their_kind(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    bob = await register(stores, hasher, "bob")
    credential, _ = await issue(stores, alice.id)
    with pytest.raises(NotFound, match="token"):
        await credentials.revoke(
            stores, credential.id, kind="pat", user_id=bob.id, peer=PEER
        )
    with pytest.raises(NotFound, match="API key"):
        await credentials.revoke(
            stores, credential.id, kind="key", user_id=alice.id, peer=PEER
        )
    await credentials.revoke(
        stores, credential.id, kind="pat", user_id=alice.id, peer=PEER
    )
    assert stores.invalidated == [credential.id]
    assert stores.audit.events[-1].action == audit.Action.PAT_REVOKED


async def test_revoke_everything(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    pat, _ = await issue(stores, alice.id)
    key, _ = await issue(stores, alice.id, kind="key")
    counts = await users.revoke_everything(
        stores, alice.id, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
    )
    assert counts == {"credentials": 2, "sessions": 0, "grants": 0}
    assert {alice.id, pat.id, key.id} <= set(stores.invalidated)
    assert stores.audit.events[-1].action == audit.Action.CREDENTIALS_REVOKED
    with pytest.raises(NotFound):
        await users.revoke_everything(
            stores, "usr_missing", actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
        )
