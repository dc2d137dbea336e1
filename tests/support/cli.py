"""The ``authgate`` console script as a client, the way a person runs it: its own
process, its own ``$XDG_CONFIG_HOME`` (so ``credentials.json`` is the test's
alone), pointed at a live server."""

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support.actions import Login
from tests.support.oauth import Browser, discover, loopback_receiver

#: The console script of the environment running the tests.
AUTHGATE = str(Path(sys.executable).parent / "authgate")
#: The client every Authgate server has built in, which the CLI signs in as.
CLI_CLIENT_ID = "authgate-cli"

Result = subprocess.CompletedProcess[str]


class Cli:
    """``cli("tokens", "list", "--json")`` runs ``authgate tokens list --json``
    against ``server`` (through ``AUTHGATE_SERVER``) with a private config dir.

    ``env`` values of ``None`` remove a variable for that run.
    """

    def __init__(
        self, workdir: Path, server: str | None = None, pycache: Path | None = None
    ) -> None:
        self.workdir = workdir
        self.config_home = workdir / "config"
        self.server = server
        self.pycache = pycache

    @property
    def credentials_path(self) -> Path:
        return self.config_home / "authgate" / "credentials.json"

    def env(self, **overrides: str | None) -> dict[str, str]:
        env: dict[str, str | None] = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AUTHGATE_") and k not in {"NO_COLOR", "BROWSER"}
        }
        env["XDG_CONFIG_HOME"] = str(self.config_home)
        if self.pycache:
            # Each command is a new interpreter: let them share compiled
            # bytecode (kept out of the tree), or each compiles httpx anew.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        env["HOME"] = str(self.workdir)
        if self.server:
            env["AUTHGATE_SERVER"] = self.server
        env.update(overrides)
        return {k: v for k, v in env.items() if v is not None}

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
        timeout: float = 60,
    ) -> Result:
        return subprocess.run(
            [AUTHGATE, *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(**(env or {})),
            cwd=self.workdir,  # no stray .env
            timeout=timeout,
            check=False,
        )

    def popen(
        self, *args: str, env: dict[str, str | None] | None = None
    ) -> "subprocess.Popen[str]":
        """A command that runs while the test acts (the login flows)."""
        return subprocess.Popen(
            [AUTHGATE, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(PYTHONUNBUFFERED="1", **(env or {})),
            cwd=self.workdir,
        )

    def ok(self, *args: str, **kwargs: Any) -> str:
        """Run a command that must succeed cleanly; its standard output."""
        return ok(self(*args, **kwargs))

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.ok(*args, "--json", **kwargs))

    # -- credentials.json
    def credentials(self) -> dict[str, Any]:
        return dict(json.loads(self.credentials_path.read_text()))

    def entry(self, server: str | None = None) -> dict[str, Any]:
        """The server's entry; empty when nothing was ever saved."""
        if not self.credentials_path.exists():
            return {}
        return dict(self.credentials()["servers"].get(server or self.server, {}))

    def store(self, server: str | None = None, **fields: Any) -> None:
        """Write fields into the server's entry directly, as an earlier login
        would have (``None`` removes one)."""
        try:
            data = self.credentials()
        except FileNotFoundError:
            data = {"servers": {}}
        key = server or self.server
        entry = data["servers"].setdefault(key, {})
        for name, value in fields.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        self.credentials_path.parent.mkdir(parents=True, exist_ok=True)
        self.credentials_path.write_text(json.dumps(data))
        self.credentials_path.chmod(0o600)


def ok(result: Result) -> str:
    """Standard output of a command that succeeded cleanly."""
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def failed(result: Result, code: int | None = None) -> str:
    """A clean failure: non-zero exit (``code`` if given), no traceback, the
    explanation on one line of standard error; that line."""
    assert result.returncode != 0, result.stdout
    if code is not None:
        assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def oauth_session(server_url: str, login: Login) -> dict[str, Any]:
    """The fields ``authgate auth login`` stores, obtained the way it obtains
    them (the built-in public client ``authgate-cli``, code + PKCE through the
    consent page, audience the server itself), but driven from the test: a
    real OAuth access token and refresh token."""
    meta = discover(server_url)
    client_id = CLI_CLIENT_ID
    with loopback_receiver() as receiver:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()
        ).rstrip(b"=")
        state = secrets.token_urlsafe(16)
        url = (
            meta["authorization_endpoint"]
            + "?"
            + urlencode(
                {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": receiver.redirect_uri,
                    "scope": "openid profile read write",
                    "state": state,
                    "code_challenge": challenge.decode(),
                    "code_challenge_method": "S256",
                    "resource": meta["issuer"],
                }
            )
        )
        with Browser(server_url, login) as browser:
            answer = receiver.follow(browser.authorize(url))
        assert answer["state"] == state
        response = httpx.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": receiver.redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
    assert response.status_code == 200, response.text
    tokens = response.json()
    return {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": int(time.time() + tokens["expires_in"]),
        "token_type": tokens["token_type"],
        "username": login.username,
    }


def refresh_grant(
    server_url: str, refresh_token: str, client_id: str
) -> httpx.Response:
    """Present a refresh token at the token endpoint, as the CLI does."""
    return httpx.post(
        discover(server_url)["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        },
    )
