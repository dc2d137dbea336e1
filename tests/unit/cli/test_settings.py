"""A command's settings: a secret file that cannot be used ends the command
with one line naming the variable and the file, not a traceback."""

from pathlib import Path

import pytest

from authgate.cli.settings import load_settings

pytestmark = pytest.mark.usefixtures("clean_environment")


def test_an_unreadable_secret_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "secret_key"
    monkeypatch.setenv("AUTHGATE_SECRET_KEY_FILE", str(missing))
    with pytest.raises(SystemExit) as exited:
        load_settings()
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: AUTHGATE_SECRET_KEY_FILE: cannot read {missing}: "
        "No such file or directory"
    ]


def test_a_secret_file_is_never_echoed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "key").write_text("too-short-secret\n")
    monkeypatch.setenv("AUTHGATE_SECRET_KEY_FILE", str(tmp_path / "key"))
    with pytest.raises(SystemExit):
        load_settings()
    err = capsys.readouterr().err
    assert "AUTHGATE_SECRET_KEY" in err
    assert "at least 32 characters" in err
    assert "too-short-secret" not in err
