"""``credentials.json``: what the CLI remembers, per server.

Lives in ``$XDG_CONFIG_HOME/authgate/`` (default ``~/.config/authgate/``), mode
0600, written atomically (temp file + rename) so a crash never leaves half a
file. Layout::

    {"last_server": "https://auth.example.com",
     "servers": {"https://auth.example.com": {
         "auth_token": "ag_pat_…",        # static: auth login --with-token
         "access_token": "eyJ…", "refresh_token": "ag_rt_…", "expires_at": 1767225600,
         "client_id": "…", "username": "alice", "org": "acme-corp"}}}

Every ``authgate`` command reads this file, so it is read with ``os.path`` and
``json`` is imported only once there is a file: ``pathlib`` and ``typing``
alone would cost ``authgate auth status`` a third of its start-up time.
"""

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

OAUTH_FIELDS = ("access_token", "refresh_token", "expires_at", "token_type")


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
        found = self.load()["servers"].get(normalize_server(server), {})
        return found if isinstance(found, dict) else {}

    @property
    def last_server(self) -> str | None:
        value = self.load().get("last_server")
        return value if isinstance(value, str) else None

    def update(self, server: str, **fields: "Any") -> "dict[str, Any]":
        """Set fields (``None`` removes one); ``server`` becomes the last used."""
        data = self.load()
        key = normalize_server(server)
        entry = dict(data["servers"].get(key, {}))
        for name, value in fields.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        data["servers"][key] = entry
        data["last_server"] = key
        self._write(data)
        return entry

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
