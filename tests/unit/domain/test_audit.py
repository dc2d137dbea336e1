"""Audit events record who asked, from where, in the change's transaction."""

import pytest

from authgate.domain import audit
from authgate.domain.context import NO_PEER, Peer
from tests.support.memory import MemoryStores

pytestmark = pytest.mark.anyio


async def test_an_event_records_the_peer(stores: MemoryStores) -> None:
    peer = Peer(ip="192.0.2.9", user_agent="x" * 600)
    await audit.record(
        stores, audit.Action.LOGOUT, peer, actor_id="usr_1", target_id="ses_1"
    )
    [event] = await stores.audit.query(audit.AuditQuery(user_id="usr_1"))
    assert (event.action, event.ip, event.details) == ("logout", "192.0.2.9", {})
    assert event.user_agent == "x" * 512  # bounded


async def test_no_user_agent_is_none(stores: MemoryStores) -> None:
    await audit.record(stores, audit.Action.LOGOUT, NO_PEER)
    assert stores.audit.events[0].user_agent is None
