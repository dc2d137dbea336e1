import os
import stat

import pytest

from authgate.app import server_secret
from authgate.config import Settings


@pytest.fixture
def no_umask():
    """Prove the file is private by its own mode, not thanks to the umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def settings(tmp_path, **values) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


def test_generated_dev_secret_is_private(tmp_path, no_umask):
    secret = server_secret(settings(tmp_path))
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) >= 32
    assert path.read_text().strip().encode() == secret


def test_generated_dev_secret_is_kept(tmp_path):
    first = server_secret(settings(tmp_path))
    assert server_secret(settings(tmp_path)) == first
    other = tmp_path / "other"
    assert server_secret(Settings(_env_file=None, data_dir=other)) != first


def test_configured_secret_is_used_and_nothing_written(tmp_path):
    secret = "configured-secret-0123456789abcdef"
    assert server_secret(settings(tmp_path, secret_key=secret)) == secret.encode()
    assert not (tmp_path / "data" / "secret_key").exists()
