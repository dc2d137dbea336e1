from datetime import timedelta
from typing import Any

import pytest

from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.storage.db import Database
from tests.integration.storage.factories import T0
from tests.support.asserts import present

pytestmark = pytest.mark.anyio


def event(action: str, minutes: int, **fields: Any) -> AuditEvent:
    return AuditEvent(action=action, at=T0 + timedelta(minutes=minutes), **fields)


EVENTS = [
    event("login.succeeded", 0, actor_id="usr_a", target_id="ses_1"),
    event("login.failed", 1, actor_id="usr_b", details={"reason": "wrong_password"}),
    event("session.revoked", 2, actor_id="usr_admin", target_id="usr_a"),
    event("login.succeeded", 3, actor_id="usr_b", org_id="org_1", ip="10.0.0.1"),
    event("invite.created", 4, actor_id="usr_admin", org_id="org_1"),
]


@pytest.fixture
async def stored(db: Database) -> list[AuditEvent]:
    async with db.transaction() as tx:
        for value in EVENTS:
            await tx.audit.add(value)
    async with db.transaction() as tx:
        return await tx.audit.query(AuditQuery(limit=100))


def actions(found: list[AuditEvent]) -> list[tuple[str, int]]:
    return [(e.action, int((e.at - T0).total_seconds() // 60)) for e in found]


async def test_everything_newest_first_with_ids(stored: list[AuditEvent]) -> None:
    assert actions(stored) == [
        ("invite.created", 4),
        ("login.succeeded", 3),
        ("session.revoked", 2),
        ("login.failed", 1),
        ("login.succeeded", 0),
    ]
    ids = [present(e.id) for e in stored]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids, reverse=True)
    failed = stored[3]
    assert failed.details == {"reason": "wrong_password"}
    assert stored[1].ip == "10.0.0.1"


async def query(db: Database, **filters: Any) -> list[tuple[str, int]]:
    async with db.transaction() as tx:
        return actions(await tx.audit.query(AuditQuery(**filters)))


async def test_user_matches_actor_or_target(
    db: Database, stored: list[AuditEvent]
) -> None:
    assert await query(db, user_id="usr_a") == [
        ("session.revoked", 2),
        ("login.succeeded", 0),
    ]


async def test_action_filter(db: Database, stored: list[AuditEvent]) -> None:
    assert await query(db, action="login.succeeded") == [
        ("login.succeeded", 3),
        ("login.succeeded", 0),
    ]


async def test_org_filter(db: Database, stored: list[AuditEvent]) -> None:
    assert await query(db, org_id="org_1") == [
        ("invite.created", 4),
        ("login.succeeded", 3),
    ]


async def test_time_range_is_since_inclusive_until_exclusive(
    db: Database, stored: list[AuditEvent]
) -> None:
    assert await query(
        db, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)
    ) == [("session.revoked", 2), ("login.failed", 1)]


async def test_filters_combine(db: Database, stored: list[AuditEvent]) -> None:
    assert await query(db, user_id="usr_b", action="login.succeeded") == [
        ("login.succeeded", 3)
    ]


async def test_before_id_cursor_pages_through(
    db: Database, stored: list[AuditEvent]
) -> None:
    pages: list[list[AuditEvent]] = []
    cursor = None
    while True:
        async with db.transaction() as tx:
            page = await tx.audit.query(AuditQuery(before_id=cursor, limit=2))
        if not page:
            break
        pages.append(page)
        cursor = page[-1].id
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e for p in pages for e in p] == stored


async def test_limit(db: Database, stored: list[AuditEvent]) -> None:
    assert len(await query(db, limit=3)) == 3
