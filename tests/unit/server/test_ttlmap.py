import anyio
import pytest

from authgate.server.org_context import OrgContext
from authgate.server.ttlmap import TtlMap


def test_kept_for_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("authgate.server.ttlmap.time.monotonic", lambda: now[0])
    values: TtlMap[str] = TtlMap(ttl=60)
    values.put("usr_1", "alice", since=values.generation)
    assert values.get("usr_1") == "alice"
    now[0] = 160.5
    assert values.get("usr_1") is None


def test_invalidate_drops_only_the_named_ids() -> None:
    values: TtlMap[str] = TtlMap(ttl=60)
    values.put("usr_1", "alice", since=values.generation)
    values.put("usr_2", "bob", since=values.generation)
    values.invalidate("usr_1", "org_9")
    assert values.get("usr_1") is None
    assert values.get("usr_2") == "bob"


def test_a_fill_begun_before_an_invalidation_is_refused() -> None:
    values: TtlMap[str] = TtlMap(ttl=60)
    since = values.generation
    values.invalidate("usr_1")  # a revocation commits while the row is read
    values.put("usr_1", "stale", since=since)
    assert values.get("usr_1") is None


def test_bounded() -> None:
    values: TtlMap[int] = TtlMap(ttl=60, max_entries=3)
    for i in range(10):
        values.put(str(i), i, since=values.generation)
    assert sum(values.get(str(i)) is not None for i in range(10)) <= 3
    assert values.get("9") == 9


def test_when_full_the_least_recently_used_goes_not_everything() -> None:
    values: TtlMap[int] = TtlMap(ttl=60, max_entries=3)
    for i in range(3):
        values.put(str(i), i, since=values.generation)
    assert values.get("0") == 0  # now the most recently used
    values.put("3", 3, since=values.generation)
    assert values.get("1") is None
    assert [values.get(key) for key in ("0", "2", "3")] == [0, 2, 3]


def test_when_full_an_expired_entry_goes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr("authgate.server.ttlmap.time.monotonic", lambda: now[0])
    values: TtlMap[int] = TtlMap(ttl=60, max_entries=2)
    values.put("old", 0, since=values.generation)
    now[0] = 150.0
    values.put("young", 1, since=values.generation)
    assert values.get("old") == 0  # the most recently used, but about to expire
    now[0] = 161.0
    values.put("new", 2, since=values.generation)
    assert [values.get(key) for key in ("old", "young", "new")] == [None, 1, 2]


class _Reads:
    """A database whose read is overtaken by a membership change: the
    fan-out evicts the user while the memberships are on their way."""

    def __init__(self) -> None:
        self.context: OrgContext | None = None
        self.reads = 0

    def read(self) -> "_Reads":
        return self

    async def __aenter__(self) -> "_Reads":
        self.reads += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    @property
    def users(self) -> "_Reads":
        return self

    @property
    def orgs(self) -> "_Reads":
        return self

    async def get(self, user_id: str) -> None:
        return None

    async def memberships(self, user_id: str) -> list[object]:
        if self.reads == 1:
            assert self.context is not None
            self.context.invalidate(user_id)
        return []


def test_org_context_does_not_cache_memberships_read_across_a_change() -> None:
    db = _Reads()
    context = OrgContext(db, ttl=60)  # type: ignore[arg-type]
    db.context = context

    async def three() -> None:
        for _ in range(3):
            await context.orgs_of("usr_1")

    anyio.run(three)
    assert db.reads == 2  # the raced read was not kept; the second one was
