import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from authgate.guard import Principal, VerificationCache, Verified
from authgate.util import tagged_cache

NOW = 1_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's wall clock, frozen and moved by hand."""
    now = [NOW]
    monkeypatch.setattr(
        tagged_cache,
        "clock",
        SimpleNamespace(now=lambda: datetime.fromtimestamp(now[0], UTC)),
    )
    return now


def who(name: str) -> Principal:
    return Principal(subject=name, kind="jwt")


def entry(name: str, ttl: float = 60, tags: tuple[str, ...] = ()) -> Verified:
    return Verified(who(name), valid_until=NOW + ttl, tags=tags)


def keep(cache: VerificationCache, key: str, verified: Verified, since: int) -> None:
    """What the guard's middleware does with a verification."""
    cache.put(
        key,
        verified.principal,
        valid_until=verified.valid_until,
        tags=verified.tags,
        since=since,
    )


def test_key_is_sha256_of_the_token_not_the_token() -> None:
    token = "ag_pat_secret"
    assert VerificationCache.key(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in VerificationCache.key(token)


def test_hit_until_valid_until(clock: list[float]) -> None:
    cache = VerificationCache()
    keep(cache, "k", entry("a", ttl=10), since=cache.generation)
    assert cache.get("k") == who("a")
    clock[0] = NOW + 9.999
    assert cache.get("k") == who("a")
    clock[0] = NOW + 10
    assert cache.get("k") is None
    assert len(cache) == 0  # dropped, not just hidden


def test_miss() -> None:
    assert VerificationCache().get("nothing") is None


def test_least_recently_used_goes_first(clock: list[float]) -> None:
    cache = VerificationCache(max_entries=2)
    keep(cache, "a", entry("a"), since=cache.generation)
    keep(cache, "b", entry("b"), since=cache.generation)
    assert cache.get("a") is not None  # a is now the most recent
    keep(cache, "c", entry("c"), since=cache.generation)
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == who("a")
    assert cache.get("c") == who("c")


def test_bounded(clock: list[float]) -> None:
    cache = VerificationCache(max_entries=5)
    for i in range(50):
        keep(cache, str(i), entry(str(i)), since=cache.generation)
    assert len(cache) == 5
    assert [cache.get(str(i)) for i in range(45, 50)] == [
        who(str(i)) for i in range(45, 50)
    ]


def test_invalidate_by_tag(clock: list[float]) -> None:
    cache = VerificationCache()
    keep(cache, "a", entry("a", tags=("ses_1", "usr_1")), since=cache.generation)
    keep(cache, "b", entry("b", tags=("ses_2", "usr_1")), since=cache.generation)
    keep(cache, "c", entry("c", tags=("ses_3", "usr_2")), since=cache.generation)
    cache.invalidate("usr_1")
    assert cache.get("a") is None
    assert cache.get("b") is None
    assert cache.get("c") == who("c")
    cache.invalidate("ses_3", "unknown")
    assert cache.get("c") is None
    assert len(cache) == 0


def test_evicted_entry_leaves_no_stale_tag(clock: list[float]) -> None:
    cache = VerificationCache(max_entries=1)
    keep(cache, "a", entry("a", tags=("usr_1",)), since=cache.generation)
    keep(cache, "b", entry("b"), since=cache.generation)  # evicts a
    keep(
        cache, "a", entry("a2"), since=cache.generation
    )  # same key again, no tags this time
    cache.invalidate("usr_1")
    assert cache.get("a") == who("a2")


def test_an_expired_verification_is_never_cached(clock: list[float]) -> None:
    cache = VerificationCache()
    keep(cache, "past", Verified(who("p"), valid_until=NOW - 1), since=cache.generation)
    keep(cache, "now", Verified(who("n"), valid_until=NOW), since=cache.generation)
    assert len(cache) == 0
    assert cache.get("past") is None
    assert cache.get("now") is None


def test_zero_entries_disables_the_cache(clock: list[float]) -> None:
    cache = VerificationCache(max_entries=0)
    keep(cache, "a", entry("a"), since=cache.generation)
    assert len(cache) == 0
    assert cache.get("a") is None


def test_clear(clock: list[float]) -> None:
    cache = VerificationCache()
    keep(cache, "a", entry("a", tags=("t",)), since=cache.generation)
    cache.clear()
    assert cache.get("a") is None
    cache.invalidate("t")  # no error after clear


def test_a_fill_that_raced_an_invalidation_is_refused(clock: list[float]) -> None:
    """A verification read the database, a revocation committed and evicted
    (nothing cached yet), then the verification finishes: its entry would
    outlive the revocation, so it is not kept."""
    cache = VerificationCache()
    since = cache.generation
    cache.invalidate("usr_1")  # the revocation lands mid-verification
    keep(cache, "a", entry("a", tags=("usr_1",)), since=since)
    assert cache.get("a") is None
    keep(cache, "a", entry("a", tags=("usr_1",)), since=cache.generation)
    assert cache.get("a") == who("a")  # a fresh verification is kept


def test_clear_also_refuses_fills_begun_before_it(clock: list[float]) -> None:
    cache = VerificationCache()
    since = cache.generation
    cache.clear()
    keep(cache, "a", entry("a"), since=since)
    assert cache.get("a") is None
