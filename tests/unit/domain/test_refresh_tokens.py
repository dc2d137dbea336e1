"""Refresh token rotation: one use each, reuse revokes the family and its
session, a family never outlives its cap."""

from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.domain import audit, refresh_families, refresh_tokens, sessions, users
from authgate.domain.passwords import Hasher
from authgate.util import clock, tokens
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import ACCESS_TTL, CLIENT, SESSION_POLICY, register

pytestmark = pytest.mark.anyio

LIFETIME = refresh_tokens.Lifetime(idle=timedelta(days=1), max=timedelta(days=3))


async def rotate(
    stores: MemoryStores, secret: str, client_id: str | None = None
) -> refresh_tokens.Rotation | None:
    current = await stores.refresh_tokens.by_hash(tokens.digest(secret))
    return await refresh_tokens.rotate(
        stores,
        current,
        client_id=client_id,
        prefix="ag",
        lifetime=LIFETIME,
        session_policy=SESSION_POLICY,
        client=CLIENT,
    )


async def signed_in(
    stores: MemoryStores, hasher: Hasher
) -> tuple[users.User, sessions.Session, refresh_tokens.Issued]:
    alice = await register(stores, hasher, "alice")
    started = await sessions.start(
        stores, SESSION_POLICY, user_id=alice.id, prefix="ag", client=CLIENT
    )
    issued = await refresh_tokens.issue(
        stores,
        prefix="ag",
        lifetime=LIFETIME,
        user_id=alice.id,
        session_id=started.session.id,
    )
    return alice, started.session, issued


async def test_rotation_continues_the_family(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice, session, issued = await signed_in(stores, hasher)
    rotation = await rotate(stores, issued.secret)
    assert rotation is not None
    assert rotation.user == alice
    successor = rotation.successor.token
    assert (successor.family_id, successor.session_id) == (issued.token.id, session.id)
    assert successor.family_created_at == issued.token.family_created_at
    used = await stores.refresh_tokens.by_hash(tokens.digest(issued.secret))
    assert used is not None
    assert used.used_at is not None


async def test_reuse_revokes_the_family_and_the_session(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice, session, issued = await signed_in(stores, hasher)
    rotation = await rotate(stores, issued.secret)
    assert rotation is not None
    assert await rotate(stores, issued.secret) is None  # the stolen copy
    # The legitimate holder's successor is dead too.
    assert await rotate(stores, rotation.successor.secret) is None
    assert stores.sessions.reasons == {session.id: "refresh_reuse"}
    assert session.id in stores.invalidated
    reuse = [e for e in stores.audit.events if e.action == audit.Action.REFRESH_REUSED]
    assert [(e.actor_id, e.target_id) for e in reuse] == [
        (alice.id, issued.token.family_id)
    ]


async def test_a_token_of_another_client_is_refused_untouched(
    stores: MemoryStores, hasher: Hasher
) -> None:
    _, _, issued = await signed_in(stores, hasher)
    before = dict(stores.refresh_tokens.rows)
    assert await rotate(stores, issued.secret, client_id="cl_other") is None
    assert stores.refresh_tokens.rows == before
    assert await rotate(stores, issued.secret) is not None


async def test_an_unknown_token_is_refused(stores: MemoryStores) -> None:
    assert await rotate(stores, "ag_rt_unknown") is None


async def test_a_token_dies_with_its_session(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice, session, issued = await signed_in(stores, hasher)
    await sessions.revoke(
        stores, session.id, user_id=alice.id, reason="logout", client=CLIENT
    )
    assert await rotate(stores, issued.secret) is None
    # Refused, not reused: nothing else is revoked or audited.
    assert audit.Action.REFRESH_REUSED not in stores.audit.actions()


async def test_a_disabled_users_token_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "root", is_admin=True)
    alice, _, issued = await signed_in(stores, hasher)
    await stores.users.set_disabled(alice.id, clock.now())
    assert await rotate(stores, issued.secret) is None


async def test_an_expired_token_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    issued = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_app"
    )
    clock.advance(LIFETIME.idle.total_seconds())
    assert await rotate(stores, issued.secret, "cl_app") is None


async def test_a_family_never_outlives_its_cap(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    issued = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_app"
    )
    cap = issued.token.family_created_at + LIFETIME.max
    secret = issued.secret
    for _ in range(2):
        clock.advance(timedelta(hours=23).total_seconds())
        rotation = await rotate(stores, secret, "cl_app")
        assert rotation is not None
        secret = rotation.successor.secret
    clock.advance(timedelta(hours=23).total_seconds())
    rotation = await rotate(stores, secret, "cl_app")
    assert rotation is not None
    assert rotation.successor.token.expires_at == cap
    clock.advance(timedelta(hours=3).total_seconds())  # 72 h: the cap
    assert await rotate(stores, rotation.successor.secret, "cl_app") is None


def test_issued_to() -> None:
    token = refresh_families.RefreshToken(
        id="rt_1",
        family_id="rt_1",
        user_id="usr_1",
        created_at=clock.now(),
        expires_at=clock.now(),
        family_created_at=clock.now(),
    )
    assert refresh_tokens.issued_to(token, None)
    assert not refresh_tokens.issued_to(token, "cl_app")
    assert refresh_tokens.issued_to(replace(token, client_id="cl_app"), "cl_app")
    assert not refresh_tokens.issued_to(None, None)


async def test_ending_logins_stops_rotation(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    issued = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_app"
    )
    await sessions.end_logins(
        stores,
        alice.id,
        reason="revoke_all",
        actor_id=alice.id,
        access_ttl=ACCESS_TTL,
        client=CLIENT,
    )
    assert await rotate(stores, issued.secret, "cl_app") is None
