"""Sessions: idle and absolute lifetimes, revocation and its fan-out."""

from datetime import timedelta

import pytest

from authgate.domain import audit, refresh_tokens, sessions
from authgate.domain.passwords import Hasher
from authgate.errors import NotFound
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import ACCESS_TTL, PEER, SESSION_POLICY, register

pytestmark = pytest.mark.anyio

LIFETIME = refresh_tokens.Lifetime(idle=timedelta(days=7), max=timedelta(days=30))


async def start(stores: MemoryStores, user_id: str) -> sessions.Started:
    return await sessions.start(
        stores, SESSION_POLICY, user_id=user_id, prefix="ag", peer=PEER, amr=("pwd",)
    )


async def test_a_session_records_where_it_was_started(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    started = await start(stores, alice.id)
    assert started.token.startswith("ag_ses_")
    assert (started.session.ip, started.session.device) == (
        PEER.ip,
        "Firefox/Linux",
    )
    assert stores.audit.events[-1].action == audit.Action.LOGIN_SUCCEEDED
    assert stores.audit.events[-1].target_id == started.session.id


async def test_an_idle_session_ends(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    started = await start(stores, alice.id)
    assert await sessions.resolve(stores, SESSION_POLICY, started.token) is not None
    clock.advance(SESSION_POLICY.idle_timeout.total_seconds())
    assert await sessions.resolve(stores, SESSION_POLICY, started.token) is None


async def test_use_slides_the_idle_deadline_but_not_the_absolute_one(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    started = await start(stores, alice.id)
    day = timedelta(days=1).total_seconds()
    for _ in range(29):
        clock.advance(day)
        found = await sessions.resolve(stores, SESSION_POLICY, started.token)
        assert found is not None
        assert sessions.due_for_touch(found)
        await sessions.touch(stores, found)
    clock.advance(day)
    assert await sessions.resolve(stores, SESSION_POLICY, started.token) is None


async def test_touch_is_due_once_a_minute(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    session = (await start(stores, alice.id)).session
    assert not sessions.due_for_touch(session)
    clock.advance(sessions.TOUCH_INTERVAL.total_seconds())
    assert sessions.due_for_touch(session)


async def test_revoking_anothers_session_is_not_found(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    bob = await register(stores, hasher, "bob")
    session = (await start(stores, alice.id)).session
    with pytest.raises(NotFound):
        await sessions.revoke(
            stores, session.id, user_id=bob.id, reason="revoked", peer=PEER
        )
    await sessions.revoke(
        stores, session.id, user_id=alice.id, reason="revoked", peer=PEER
    )
    assert stores.invalidated == [session.id]
    assert stores.audit.events[-1].action == audit.Action.SESSION_REVOKED
    # Revoking it again changes nothing and writes nothing.
    await sessions.revoke(
        stores, session.id, user_id=alice.id, reason="revoked", peer=PEER
    )
    assert stores.invalidated == [session.id]
    assert stores.audit.actions().count(audit.Action.SESSION_REVOKED) == 1


async def test_sign_out_by_refresh_token_and_twice(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    session = (await start(stores, alice.id)).session
    issued = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, session_id=session.id
    )
    for _ in range(2):
        await sessions.sign_out(
            stores,
            session_id=None,
            session_token="ag_ses_unknown",
            refresh_token=issued.secret,
            peer=PEER,
        )
    assert await sessions.live_for_user(stores, SESSION_POLICY, alice.id) == []
    assert stores.audit.actions().count(audit.Action.LOGOUT) == 1


async def test_ending_logins_keeps_one_session_and_revokes_oauth_grants(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    here = (await start(stores, alice.id)).session
    there = (await start(stores, alice.id)).session
    app = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_app"
    )
    ended = await sessions.end_logins(
        stores,
        alice.id,
        keep=here.id,
        reason="password_changed",
        actor_id=alice.id,
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )
    assert ended == sessions.Ended(sessions=[there.id], grants=[app.token.family_id])
    assert [s.id for s in await stores.sessions.list_for_user(alice.id)] == [here.id]
    # The grant's access tokens are refused from the next request on.
    assert app.token.family_id in stores.revocations.rows
    assert {there.id, app.token.family_id} <= set(stores.invalidated)
    assert stores.audit.events[-1].details == {
        "reason": "password_changed",
        "sessions": [there.id],
        "grants": [app.token.family_id],
    }


async def test_ending_no_logins_writes_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await sessions.end_logins(
        stores,
        alice.id,
        reason="revoke_all",
        actor_id=None,
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )
    assert stores.audit.actions() == [audit.Action.USER_CREATED]


async def test_app_logins_are_listed_and_ended_like_sessions(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    bob = await register(stores, hasher, "bob")
    app = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_app"
    )
    [login] = await sessions.app_logins(stores, alice.id)
    assert (login.id, login.device) == (app.token.family_id, "cl_app")
    with pytest.raises(NotFound):  # another person's login id
        await sessions.end_login(
            stores, login.id, user_id=bob.id, access_ttl=ACCESS_TTL, peer=PEER
        )
    await sessions.end_login(
        stores, login.id, user_id=alice.id, access_ttl=ACCESS_TTL, peer=PEER
    )
    assert await sessions.app_logins(stores, alice.id) == []
    assert login.id in stores.revocations.rows
