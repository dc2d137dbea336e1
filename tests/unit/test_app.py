import gc
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authgate.app import create_app, server_secret
from authgate.config import Settings
from authgate.server import heap
from tests.conftest import MakeSettings


@pytest.fixture
def no_umask() -> Iterator[None]:
    """Prove the file is private by its own mode, not thanks to the umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


def test_generated_dev_secret_is_private(tmp_path: Path, no_umask: None) -> None:
    secret = server_secret(settings(tmp_path))
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= 32
    assert path.read_text().strip().encode() == secret


def test_generated_dev_secret_is_kept(tmp_path: Path) -> None:
    first = server_secret(settings(tmp_path))
    assert server_secret(settings(tmp_path)) == first
    other = tmp_path / "other"
    assert server_secret(Settings(_env_file=None, data_dir=other)) != first


def test_configured_secret_is_used_and_nothing_written(tmp_path: Path) -> None:
    secret = "configured-secret-0123456789abcdef"
    assert server_secret(settings(tmp_path, secret_key=secret)) == secret.encode()
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_heap_is_frozen_once_the_server_has_started(
    make_settings: MakeSettings,
) -> None:
    """A full collection would otherwise walk every object start-up made, on
    the event loop (``server/heap.py``)."""
    app = create_app(make_settings(), migrate=False)
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
