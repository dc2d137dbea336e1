"""Every client a test here opens on a live server is closed after the test
(an unclosed one would surface as a ResourceWarning, an error here)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.live import LiveServer


@pytest.fixture(autouse=True)
def _close_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    opened: list[httpx.Client] = []
    original = LiveServer.client

    def client(self: LiveServer, **kwargs: Any) -> httpx.Client:
        made = original(self, **kwargs)
        opened.append(made)
        return made

    monkeypatch.setattr(LiveServer, "client", client)
    yield
    for made in opened:
        made.close()
