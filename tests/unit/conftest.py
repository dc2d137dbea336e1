"""Fixtures shared by the unit tests that build settings."""

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``AUTHGATE_*`` variable of the caller's, and no stray ``.env``: the
    settings a test builds are the ones it names."""
    for name in list(os.environ):
        if name.startswith("AUTHGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
