"""The server's key ring reloads on an unknown ``kid`` at most once per
interval: a flood of forged kids cannot become a flood of database reads."""

from datetime import timedelta

import anyio
import pytest

from authgate.server.services import KEY_RELOAD_INTERVAL, Keys


def test_an_unknown_kid_reloads_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("authgate.server.services.time.monotonic", lambda: now[0])
    keys = Keys(db=None, cipher=None, retention=timedelta(minutes=20))  # type: ignore[arg-type]
    loads: list[float] = []

    async def load() -> None:
        loads.append(now[0])
        keys._loaded_at = now[0]

    monkeypatch.setattr(keys, "load", load)

    async def flood() -> None:
        for i in range(50):
            assert await keys.key(f"forged-{i}") is None

    anyio.run(flood)
    assert loads == [1000.0]  # the first unknown kid, then none within the interval
    now[0] += KEY_RELOAD_INTERVAL / 2
    anyio.run(flood)
    assert len(loads) == 1
    now[0] += KEY_RELOAD_INTERVAL
    anyio.run(flood)
    assert len(loads) == 2


def test_settled_waits_for_a_reload_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rotation schedules a reload as it commits; the CLI and the server's
    shutdown wait for it before closing the database, or its read lands on a
    closed pool and a closed loop (a traceback after `admin rotate-keys`)."""
    keys = Keys(db=None, cipher=None, retention=timedelta(minutes=20))  # type: ignore[arg-type]
    finished: list[bool] = []

    async def load() -> None:
        await anyio.sleep(0.05)
        finished.append(True)

    monkeypatch.setattr(keys, "load", load)

    async def rotate_then_close() -> None:
        keys.reload_soon()
        await keys.settled()
        assert finished == [True]

    anyio.run(rotate_then_close)
