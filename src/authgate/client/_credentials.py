"""``credentials.json``: what the CLI remembers, per server.

Lives in ``$XDG_CONFIG_HOME/authgate/`` (default ``~/.config/authgate/``), mode
0600, written atomically (temp file + rename) so a crash never leaves half a
file. Layout::

    {"last_server": "https://auth.example.com",
     "servers": {"https://auth.example.com": {
         "auth_token": "ag_pat_…",        # static: auth login --with-token
         "access_token": "eyJ…", "refresh_token": "ag_rt_…", "expires_at": 1767225600,
         "resource_tokens": {"https://api.example.com": {"access_token": "eyJ…",
                                                         "expires_at": 1767225600}},
         "client_id": "…", "username": "alice", "org": "acme-corp"}}}

The tokens themselves (``SECRET_FIELDS``) go to the OS keyring (macOS
Keychain, Windows Credential Locker, the Secret Service) when one is there, as
one item per server under the service ``authgate``; the entry then says
``"token_store": "keyring"`` and the file keeps only what is not secret. With
no usable keyring (a headless Linux box, a locked or refused one) they stay in
the file, as ``gh`` does. A file from before the keyring is moved over at the
next sign-in or refresh.

Every ``authgate`` command reads this file, so it is read with ``os.path`` and
``json`` is imported only once there is a file: ``pathlib`` and ``typing``
alone would cost ``authgate auth status`` a third of its start-up time.
``keyring`` (half a second to import and pick a backend) is imported only when
an entry's tokens are in it or tokens are being stored.
"""

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

OAUTH_FIELDS = (
    "access_token",
    "refresh_token",
    "expires_at",
    "token_type",
    "resource_tokens",
)
#: the fields kept in the OS keyring when there is one (``resource_tokens``:
#: access tokens for other resources, ``auth token --resource``)
SECRET_FIELDS = ("auth_token", "access_token", "refresh_token", "resource_tokens")
KEYRING_SERVICE = "authgate"
#: the entry's field that says where its secret fields are
STORE_FIELD = "token_store"


def _config_dir() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(
        os.path.expanduser("~"), ".config"
    )
    return os.path.join(base, "authgate")


def config_dir() -> "Path":
    """Where the CLI keeps its files: ``$XDG_CONFIG_HOME/authgate``."""
    from pathlib import Path

    return Path(_config_dir())


def normalize_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    return url


class CredentialsFile:
    def __init__(self, path: "Path | str | None" = None) -> None:
        self._path = (
            os.fspath(path)
            if path is not None
            else os.path.join(_config_dir(), "credentials.json")
        )

    @property
    def path(self) -> "Path":
        from pathlib import Path

        return Path(self._path)

    def load(self) -> "dict[str, Any]":
        try:
            with open(self._path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:  # missing or unreadable: nothing remembered
            return {"servers": {}}
        import json

        try:
            data = json.loads(text)
        except ValueError:
            return {"servers": {}}
        if not isinstance(data, dict):
            return {"servers": {}}
        if not isinstance(data.get("servers"), dict):
            data["servers"] = {}
        return data

    def entry(self, server: str) -> "dict[str, Any]":
        key = normalize_server(server)
        found = self.load()["servers"].get(key, {})
        if not isinstance(found, dict):
            return {}
        if found.get(STORE_FIELD) == "keyring":
            return {**found, **_keyring_get(key)}
        return found

    def location(self, server: str) -> str:
        """Where ``server``'s tokens are kept, as ``auth status`` says it."""
        if self.entry(server).get(STORE_FIELD) != "keyring":
            return self._path
        import keyring

        return f"keyring ({keyring.get_keyring().name})"

    @property
    def last_server(self) -> str | None:
        value = self.load().get("last_server")
        return value if isinstance(value, str) else None

    def update(self, server: str, **fields: "Any") -> "dict[str, Any]":
        """Set fields (``None`` removes one); ``server`` becomes the last used.
        Secret fields go to the keyring when it takes them, else to the file."""
        data = self.load()
        key = normalize_server(server)
        entry = dict(data["servers"].get(key, {}))
        secrets = {name: entry.pop(name) for name in SECRET_FIELDS if name in entry}
        storing = any(name in SECRET_FIELDS for name in fields)
        if storing and entry.get(STORE_FIELD) == "keyring":
            secrets = {**_keyring_get(key), **secrets}
        for name, value in fields.items():
            target = secrets if name in SECRET_FIELDS else entry
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        if storing and _keyring_put(key, secrets):
            entry.pop(STORE_FIELD, None)
            if secrets:
                entry[STORE_FIELD] = "keyring"
        elif storing:  # no usable keyring: the file keeps them
            entry.pop(STORE_FIELD, None)
            entry.update(secrets)
        else:
            entry.update(secrets)  # only what the file already held
        data["servers"][key] = entry
        data["last_server"] = key
        self._write(data)
        return {**entry, **secrets}

    def _write(self, data: "dict[str, Any]") -> None:
        import json
        import tempfile

        directory = os.path.dirname(self._path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(dir=directory, prefix=".credentials-")
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self._path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise


def _keyring_get(key: str) -> "dict[str, Any]":
    """``key``'s secret fields; none when the keyring cannot be read."""
    import json

    import keyring
    from keyring.errors import KeyringError

    try:
        text = keyring.get_password(KEYRING_SERVICE, key)
    except KeyringError:
        return {}
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _keyring_put(key: str, secrets: "dict[str, Any]") -> bool:
    """Whether the keyring now holds ``secrets`` for ``key`` (or, with none,
    holds nothing for it)."""
    import json

    import keyring
    from keyring.errors import KeyringError

    try:
        if secrets:
            keyring.set_password(KEYRING_SERVICE, key, json.dumps(secrets))
        elif keyring.get_password(KEYRING_SERVICE, key) is not None:
            keyring.delete_password(KEYRING_SERVICE, key)
    except KeyringError:
        return False
    return True
