"""Where the CLI keeps its tokens: the OS keyring when there is one, the file
when there is none. This machine has no keyring backend, so a fake one (a
dict) is registered with ``keyring.set_keyring``."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from authgate.cli import main
from authgate.client._credentials import KEYRING_SERVICE, CredentialsFile

SERVER = "https://auth.example.com"


class FakeKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def no_keyring() -> KeyringBackend:
    """What keyring picks on a machine with none (headless Linux)."""
    return fail.Keyring()  # type: ignore[no-untyped-call]


class LockedKeyring(FakeKeyring):
    """A keyring that is there but refuses (locked, or the user said no)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")


@pytest.fixture
def fake() -> Iterator[FakeKeyring]:
    before = keyring.get_keyring()
    backend = FakeKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def store(tmp_path: Path) -> CredentialsFile:
    return CredentialsFile(tmp_path / "credentials.json")


def on_disk(store: CredentialsFile) -> dict[str, object]:
    entry = json.loads(store.path.read_text())["servers"][SERVER]
    assert isinstance(entry, dict)
    return entry


def test_tokens_go_to_the_keyring_and_the_rest_to_the_file(
    fake: FakeKeyring, store: CredentialsFile
) -> None:
    store.update(
        SERVER, access_token="eyJ.a.b", refresh_token="ag_rt_x", expires_at=5.0
    )
    assert on_disk(store) == {"expires_at": 5.0, "token_store": "keyring"}
    assert "ag_rt_x" not in store.path.read_text()
    assert json.loads(fake.items[(KEYRING_SERVICE, SERVER)]) == {
        "access_token": "eyJ.a.b",
        "refresh_token": "ag_rt_x",
    }
    assert store.entry(SERVER)["refresh_token"] == "ag_rt_x"
    assert store.location(SERVER) == "keyring (test credentials FakeKeyring)"


def test_a_field_update_keeps_the_tokens_and_a_logout_removes_them(
    fake: FakeKeyring, store: CredentialsFile
) -> None:
    store.update(SERVER, auth_token="ag_pat_x", access_token="eyJ.a.b")
    store.update(SERVER, org="acme")
    assert store.entry(SERVER)["auth_token"] == "ag_pat_x"
    store.update(SERVER, access_token=None)  # logout: the static token stays
    assert json.loads(fake.items[(KEYRING_SERVICE, SERVER)]) == {
        "auth_token": "ag_pat_x"
    }
    store.update(SERVER, auth_token=None)
    assert fake.items == {}
    assert "token_store" not in on_disk(store)


def test_tokens_in_an_older_file_move_to_the_keyring_at_the_next_refresh(
    fake: FakeKeyring, store: CredentialsFile
) -> None:
    keyring.set_keyring(no_keyring())
    store.update(SERVER, access_token="old", refresh_token="ag_rt_old")
    keyring.set_keyring(fake)
    store.update(SERVER, access_token="new")
    assert on_disk(store) == {"token_store": "keyring"}
    assert store.entry(SERVER)["refresh_token"] == "ag_rt_old"
    assert store.entry(SERVER)["access_token"] == "new"


@pytest.mark.parametrize("backend", [fail.Keyring, LockedKeyring])
def test_without_a_usable_keyring_the_file_keeps_them(
    backend: type[KeyringBackend], store: CredentialsFile
) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        store.update(SERVER, access_token="eyJ.a.b", refresh_token="ag_rt_x")
        assert on_disk(store) == {"access_token": "eyJ.a.b", "refresh_token": "ag_rt_x"}
        assert store.location(SERVER) == str(store.path)
        store.update(SERVER, access_token=None, refresh_token=None)
        assert on_disk(store) == {}
    finally:
        keyring.set_keyring(before)


def status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, home: Path
) -> str:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("AUTHGATE_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["auth", "status", "--server", SERVER])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_auth_status_says_where_the_token_is_stored(
    fake: FakeKeyring,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_keyring = CredentialsFile(tmp_path / "k" / "authgate" / "credentials.json")
    in_keyring.update(SERVER, access_token="eyJ.a.b", expires_at=time.time() + 600)
    said = status(capsys, monkeypatch, tmp_path / "k")
    assert "Token stored in: keyring (test credentials FakeKeyring)\n" in said

    keyring.set_keyring(no_keyring())
    in_file = CredentialsFile(tmp_path / "f" / "authgate" / "credentials.json")
    in_file.update(SERVER, access_token="eyJ.a.b", expires_at=time.time() + 600)
    said = status(capsys, monkeypatch, tmp_path / "f")
    assert f"Token stored in: {in_file.path}\n" in said
