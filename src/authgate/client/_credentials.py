"""``credentials.json``: what the CLI remembers, per server.

Lives in ``$XDG_CONFIG_HOME/authgate/`` (default ``~/.config/authgate/``), mode
0600, written atomically (temp file + rename) so a crash never leaves half a
file. Layout::

    {"last_server": "https://auth.example.com",
     "servers": {"https://auth.example.com": {
         "auth_token": "ag_pat_…",        # static: auth login --with-token
         "access_token": "eyJ…", "refresh_token": "ag_rt_…", "expires_at": 1767225600,
         "client_id": "…", "username": "alice", "org": "acme-corp"}}}
"""

import json
import os
from pathlib import Path
from typing import Any

OAUTH_FIELDS = ("access_token", "refresh_token", "expires_at", "token_type")


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "authgate"


def normalize_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    return url


class CredentialsFile:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "credentials.json"

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"servers": {}}
        except (OSError, ValueError):
            return {"servers": {}}
        if not isinstance(data, dict):
            return {"servers": {}}
        data.setdefault("servers", {})
        return data

    def entry(self, server: str) -> dict[str, Any]:
        found = self.load()["servers"].get(normalize_server(server), {})
        return found if isinstance(found, dict) else {}

    @property
    def last_server(self) -> str | None:
        value = self.load().get("last_server")
        return value if isinstance(value, str) else None

    def update(self, server: str, **fields: Any) -> dict[str, Any]:
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

    def _write(self, data: dict[str, Any]) -> None:
        import tempfile

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temp = tempfile.mkstemp(
            dir=self.path.parent, prefix=".credentials-"
        )
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
