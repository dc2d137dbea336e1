"""Signing the CLI in with OAuth 2.1: a loopback redirect (RFC 8252) or the
device grant (RFC 8628), as ``authgate-cli``, the public client built into
every Authgate server, so nothing is registered. Every endpoint comes from the
server's metadata.

Resource indicators (RFC 8707): a sign-in is granted for Authgate's own API
and for each ``resource`` the person asked for (their own app), but every
access token names one audience. The stored one is the API's; a token for an
app comes from the refresh token, narrowed to that app (:func:`for_resource`),
so a token handed to an app can never manage the account."""

import base64
import hashlib
import http.server
import secrets
import threading
import time
import urllib.parse
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authgate.client._client import AuthgateClient
from authgate.client._credentials import CredentialsFile
from authgate.client._errors import ApiError, AuthgateClientError

#: The server's built-in client (``authgate.domain.clients.CLI_CLIENT_ID``;
#: this package imports no server code). A ``client_id`` an older CLI saved
#: after registering its own client is not used for signing in or refreshing.
CLIENT_ID = "authgate-cli"
SCOPE = "openid profile read write"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: float | None


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _tokens(body: dict[str, Any]) -> Tokens:
    expires_in = body.get("expires_in")
    return Tokens(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_at=time.time() + float(expires_in) if expires_in else None,
    )


class _Receiver:
    """The one redirect the loopback server waits for."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.result: dict[str, str] = {}

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Callback(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                if parsed.path != "/callback":
                    self.send_error(404)
                    return
                receiver.result = dict(urllib.parse.parse_qsl(parsed.query))
                message = (
                    "Sign-in failed; see the terminal."
                    if "error" in receiver.result
                    else "Signed in. You can close this tab and return to the terminal."
                )
                body = (
                    f"<!doctype html><title>Authgate</title><p>{message}</p>".encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                receiver.event.set()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the terminal is for the user's messages."""

        return Callback


def browser_login(
    client: AuthgateClient,
    *,
    open_browser: bool,
    timeout: float,
    say: Say,
    resources: tuple[str, ...] = (),
) -> Tokens:
    metadata = _metadata(client)
    api = _api(metadata, client)
    receiver = _Receiver()
    server = http.server.HTTPServer(("127.0.0.1", 0), receiver.handler())
    port = server.server_address[1]
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(24)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": [api, *resources],
        },
        doseq=True,
    )
    url = f"{metadata['authorization_endpoint']}?{query}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # The URL is printed first: a $BROWSER command may not return until
        # the browser does (webbrowser waits for commands it doesn't know).
        if open_browser:
            say("Opening your browser to sign in. If it does not open, visit:")
        else:
            say("Open this URL in a browser to sign in:")
        say(f"  {url}")
        opened = open_browser and _open(url)
        if open_browser and not opened:
            say("Could not open a browser; open the URL above in one.")
        if not opened:
            say(
                f"Waiting for the redirect on 127.0.0.1:{port}. Over SSH, forward "
                f"it first: ssh -L {port}:127.0.0.1:{port} <this host>"
            )
        if not receiver.event.wait(timeout):
            raise AuthgateClientError(
                f"Timed out after {_minutes(timeout)} waiting for the browser sign-in. "
                "Run 'authgate auth login' again."
            )
    finally:
        server.shutdown()
        server.server_close()
    result = receiver.result
    if result.get("error"):
        reason = result.get("error_description") or result["error"]
        raise AuthgateClientError(f"Sign-in was refused: {reason}.")
    if not secrets.compare_digest(result.get("state", "").encode(), state.encode()):
        raise AuthgateClientError(
            "Sign-in failed: the browser's answer did not match this login "
            "(state mismatch)."
        )
    if result.get("iss") and result["iss"] != metadata.get("issuer"):
        raise AuthgateClientError(
            "Sign-in failed: the answer came from another issuer."
        )
    body = client.request(
        "POST",
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": result.get("code", ""),
            "redirect_uri": redirect_uri,
            "client_id": CLIENT_ID,
            "code_verifier": verifier,
            "resource": api,
        },
    )
    return _tokens(body)


def _api(metadata: dict[str, Any], client: AuthgateClient) -> str:
    """Authgate's own API as a resource: its issuer (RFC 9728)."""
    return str(metadata.get("issuer") or client.server)


def _open(url: str) -> bool:
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _metadata(client: AuthgateClient) -> dict[str, Any]:
    """The server's RFC 8414 metadata; a server without it can't sign the CLI
    in, which is said in the words the docs use."""
    try:
        return client.metadata()
    except ApiError as exc:
        raise AuthgateClientError(
            f"sign-in failed: {client.server} publishes no OAuth "
            f"metadata (HTTP {exc.status}). Check the server URL."
        ) from None


def device_login(
    client: AuthgateClient,
    *,
    say: Say,
    sleep: Callable[[float], None] = time.sleep,
    resources: tuple[str, ...] = (),
) -> Tokens:
    metadata = _metadata(client)
    api = _api(metadata, client)
    started = client.request(
        "POST",
        metadata["device_authorization_endpoint"],
        data={
            "client_id": CLIENT_ID,
            "scope": SCOPE,
            "resource": [api, *resources],
        },
    )
    say(f"Please visit: {started['verification_uri']}")
    say(f"And enter code: {started['user_code']}")
    say("Waiting for authorization...")
    interval = float(started.get("interval", 5))
    deadline = time.monotonic() + float(started.get("expires_in", 600))
    while time.monotonic() < deadline:
        sleep(interval)
        try:
            body = client.request(
                "POST",
                metadata["token_endpoint"],
                data={
                    "grant_type": DEVICE_GRANT,
                    "device_code": started["device_code"],
                    "client_id": CLIENT_ID,
                    "resource": api,
                },
            )
        except ApiError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += 5  # RFC 8628 §3.5
                continue
            if exc.error == "access_denied":
                raise AuthgateClientError("The sign-in request was denied.") from None
            if exc.error == "expired_token":
                break
            raise
        return _tokens(body)
    raise AuthgateClientError(
        "The code expired before it was approved. "
        "Run 'authgate auth login --device' again."
    )


def refresh(client: AuthgateClient, store: CredentialsFile) -> Tokens:
    """New tokens from the stored refresh token (rotated: the new one is saved)."""
    metadata = client.metadata()
    tokens = _refresh(client, store, metadata, _api(metadata, client))
    save(store, client.server, tokens)
    return tokens


def for_resource(
    client: AuthgateClient, store: CredentialsFile, resource: str
) -> Tokens:
    """An access token whose audience is ``resource`` alone, from the stored
    refresh token (its rotated successor is saved; the API's access token
    stays)."""
    tokens = _refresh(client, store, client.metadata(), resource)
    store.update(client.server, refresh_token=tokens.refresh_token)
    return tokens


def _refresh(
    client: AuthgateClient,
    store: CredentialsFile,
    metadata: dict[str, Any],
    resource: str,
) -> Tokens:
    entry = store.entry(client.server)
    body = client.request(
        "POST",
        metadata["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": str(entry.get("refresh_token", "")),
            "client_id": CLIENT_ID,
            "resource": resource,
        },
    )
    return _tokens(body)


def save(store: CredentialsFile, server: str, tokens: Tokens) -> None:
    store.update(
        server,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=int(tokens.expires_at) if tokens.expires_at else None,
        client_id=None,  # an older CLI's own client: these tokens are not its
    )


def _minutes(seconds: float) -> str:
    return (
        f"{int(seconds // 60)} minutes" if seconds >= 120 else f"{int(seconds)} seconds"
    )
