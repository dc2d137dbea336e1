"""Housekeeping: each row is kept while it can still decide something, and
deleted after."""

from datetime import timedelta

import pytest

from authgate.domain import (
    clients,
    email_tokens,
    grants,
    housekeeping,
    lockout,
    mail,
    refresh_tokens,
    replay,
    revocations,
    sessions,
)
from authgate.domain.passwords import Hasher
from authgate.domain.sealing import Sealer
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import LOCKOUT_POLICY, PEER, SESSION_POLICY, register

pytestmark = pytest.mark.anyio

LIFETIME = refresh_tokens.Lifetime(idle=timedelta(days=7), max=timedelta(days=60))
POLICY = housekeeping.Policy(
    refresh_max_lifetime=LIFETIME.max,
    lockout_window=LOCKOUT_POLICY.duration,
    outbox_retention=timedelta(minutes=10),
)
DAY = timedelta(days=1)


def advance(by: timedelta) -> None:
    clock.advance(by.total_seconds())


async def prune(
    stores: MemoryStores, policy: housekeeping.Policy = POLICY
) -> dict[str, int]:
    return (await housekeeping.prune(stores, policy)).counts


async def test_a_session_is_kept_until_its_max_lifetime_and_a_grace(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    started = await sessions.start(
        stores, SESSION_POLICY, user_id=alice.id, prefix="ag", peer=PEER, amr=("pwd",)
    )
    await sessions.revoke(
        stores, started.session.id, user_id=alice.id, reason="logout", peer=PEER
    )
    advance(SESSION_POLICY.max_lifetime + housekeeping.GRACE - timedelta(minutes=1))
    assert (await prune(stores))["sessions"] == 0
    advance(timedelta(minutes=2))
    assert (await prune(stores))["sessions"] == 1
    assert stores.sessions.rows == {}


async def test_a_refresh_family_is_kept_until_its_max_lifetime_and_a_grace(
    stores: MemoryStores, hasher: Hasher
) -> None:
    """Even used and revoked, its tokens stay while any of them could be
    presented: a reuse must still be recognised as one."""
    alice = await register(stores, hasher, "alice")
    first = await refresh_tokens.issue(
        stores, prefix="ag", lifetime=LIFETIME, user_id=alice.id, client_id="cl_a"
    )
    await stores.refresh_tokens.mark_used(first.token.id, clock.now())
    await refresh_tokens.issue(
        stores,
        prefix="ag",
        lifetime=LIFETIME,
        user_id=alice.id,
        client_id="cl_a",
        family_id=first.token.family_id,
        family_created_at=first.token.family_created_at,
    )
    advance(LIFETIME.max + housekeeping.GRACE - timedelta(minutes=1))
    assert (await prune(stores))["refresh_tokens"] == 0
    advance(timedelta(minutes=2))
    assert (await prune(stores))["refresh_tokens"] == 2


async def test_login_failures_go_once_their_window_and_lock_are_over(
    stores: MemoryStores,
) -> None:
    for _ in range(LOCKOUT_POLICY.max_attempts):
        await lockout.record_failure(stores, LOCKOUT_POLICY, "alice")
    await lockout.record_failure(stores, LOCKOUT_POLICY, "bob")
    assert (await prune(stores))["login_failures"] == 0
    advance(LOCKOUT_POLICY.duration * 2)
    assert (await prune(stores))["login_failures"] == 2
    assert await stores.lockout.find("alice") is None


async def test_codes_used_values_and_revocations_go_when_they_expire(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await grants.issue_code(
        stores,
        prefix="ag",
        client_id="cl_a",
        user_id=alice.id,
        redirect_uri=None,
        code_challenge="x" * 43,
        scope="openid",
        resources=(),
        nonce=None,
        authentication=None,
        peer=PEER,
    )
    await grants.start_device(
        stores,
        prefix="ag",
        client_id="cl_a",
        scope="openid",
        resources=(),
        ttl=timedelta(minutes=10),
    )
    await replay.use_once(stores, "state", clock.now() + timedelta(minutes=10))
    await revocations.revoke(stores, "gr_x", until=clock.now() + timedelta(minutes=15))
    assert set((await prune(stores)).values()) == {0}
    advance(grants.CODE_RETENTION + DAY)
    counts = await prune(stores)
    assert [counts[s] for s in ("authorization_codes", "device_codes")] == [1, 1]
    assert [counts[s] for s in ("used_values", "revocations")] == [1, 1]


async def test_mailed_links_go_when_they_expire(stores: MemoryStores) -> None:
    await email_tokens.issue(
        stores,
        email_tokens.Purpose.VERIFY,
        "usr_a",
        "ada@example.com",
        DAY,
        prefix="ag",
    )
    assert (await prune(stores))["email_tokens"] == 0
    advance(DAY + timedelta(seconds=1))
    assert (await prune(stores))["email_tokens"] == 1
    assert stores.email_tokens.rows == {}


async def test_the_outbox_is_kept_for_the_feeds_retention(
    stores: MemoryStores,
) -> None:
    stores.invalidate("ses_1")
    assert (await prune(stores))["invalidations"] == 0
    advance(POLICY.outbox_retention + timedelta(seconds=1))
    assert (await prune(stores))["invalidations"] == 1


async def test_the_audit_log_is_kept_by_default(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    advance(timedelta(days=3650))
    assert "audit_events" not in await prune(stores)
    assert len(stores.audit.events) == 1


async def test_audit_retention_deletes_only_older_events(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    advance(timedelta(days=31))
    await register(stores, hasher, "bob")
    policy = housekeeping.Policy(
        refresh_max_lifetime=LIFETIME.max,
        lockout_window=LOCKOUT_POLICY.duration,
        outbox_retention=POLICY.outbox_retention,
        audit_retention=timedelta(days=30),
    )
    assert (await prune(stores, policy))["audit_events"] == 1
    assert len(stores.audit.events) == 1


async def test_a_full_batch_asks_for_another(stores: MemoryStores) -> None:
    for name in ("a", "b", "c"):
        await lockout.record_failure(stores, LOCKOUT_POLICY, name)
    advance(LOCKOUT_POLICY.duration * 2)
    first = await housekeeping.prune(stores, POLICY, limit=2)
    assert (first.counts["login_failures"], first.more) == (2, True)
    second = await housekeeping.prune(stores, POLICY, limit=2)
    assert (second.counts["login_failures"], second.more) == (1, False)


async def test_an_abandoned_dynamic_registration_goes_after_a_grace(
    stores: MemoryStores,
) -> None:
    registered, _ = await clients.create(
        stores,
        prefix="ag",
        name="Some MCP client",
        redirect_uris=("http://127.0.0.1/cb",),
        grant_types=None,
        public=True,
        registration="dynamic",
        created_by=None,
        peer=PEER,
    )
    advance(housekeeping.GRACE - timedelta(minutes=1))
    assert (await prune(stores))["oauth_clients"] == 0
    advance(timedelta(minutes=2))
    assert (await prune(stores))["oauth_clients"] == 1
    assert await stores.clients.get(registered.id) is None


async def test_mail_is_kept_a_while_after_it_was_sent_then_pruned(
    stores: MemoryStores,
) -> None:
    sealer = Sealer(b"m" * 32)
    await mail.queue(stores, sealer, mail.Message("a@example.com", "t", {}))
    await mail.queue(stores, sealer, mail.Message("b@example.com", "t", {}))
    [sent] = await mail.due(stores, 1, timedelta(minutes=5))
    await mail.delivered(stores, sent)
    advance(mail.RETENTION - timedelta(minutes=1))
    assert (await prune(stores))["mail_queue"] == 0
    advance(timedelta(minutes=2))
    assert (await prune(stores))["mail_queue"] == 1
    [left] = stores.mail.rows
    assert left.id != sent.id
    assert left.sent_at is None
