"""``authgate auth login | status | logout | token`` and ``authgate whoami``."""

import argparse
import os
import sys

from authgate.cli import output
from authgate.cli.options import Context, client_options

#: Seconds to wait for the browser redirect; a setting so tests can shorten it.
LOGIN_TIMEOUT_ENV = "AUTHGATE_LOGIN_TIMEOUT"


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parent = client_options()
    group = commands.add_parser("auth", help="Sign the CLI in and out.")
    sub = group.add_subparsers(dest="auth_command", required=True, metavar="COMMAND")
    login_parser = sub.add_parser(
        "login", parents=[parent], help="Sign in (browser, device code or token)."
    )
    mode = login_parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--no-browser",
        action="store_true",
        help="Print the URL instead of opening a browser.",
    )
    mode.add_argument(
        "--device", action="store_true", help="Sign in with a code on another device."
    )
    mode.add_argument(
        "--with-token", action="store_true", help="Read a token from standard input."
    )
    login_parser.add_argument(
        "--resource",
        action="append",
        default=[],
        metavar="URI",
        help="Also ask for tokens for this resource, e.g. your own app's URI "
        "(RFC 8707; repeatable); then 'auth token --resource URI' prints one.",
    )
    login_parser.set_defaults(run=login)
    sub.add_parser(
        "status", parents=[parent], help="Show how the CLI is authenticated."
    ).set_defaults(run=status)
    sub.add_parser(
        "logout",
        parents=[parent],
        help="Forget the OAuth session (a static token stays).",
    ).set_defaults(run=logout)
    token_parser = sub.add_parser(
        "token", parents=[parent], help="Print the token in use."
    )
    token_parser.add_argument(
        "--resource",
        metavar="URI",
        help="Print an access token for this resource instead (one that "
        "'auth login --resource URI' was granted).",
    )
    token_parser.set_defaults(run=token)
    commands.add_parser(
        "whoami", parents=[parent], help="Show the signed-in user."
    ).set_defaults(run=whoami)


def login(args: argparse.Namespace) -> int:
    from authgate.client import AuthgateClient
    from authgate.client._login import browser_login, device_login, save

    context = Context(args)
    if args.with_token and args.resource:
        output.error(
            "--resource needs an OAuth sign-in: drop --with-token, or use a "
            "token your app accepts directly."
        )
        return 2
    if args.with_token:
        value = sys.stdin.readline().strip()
        if not value:
            output.error("No token on standard input.")
            return 1
        with AuthgateClient(context.server, value) as client:
            me = client.me()
        context.store.update(context.server, auth_token=value, username=me["username"])
        output.success(
            f"Logged in to {context.server} as {me['username']} (static token)."
        )
        return 0
    with AuthgateClient(context.server) as anonymous:
        resources = tuple(args.resource)
        if args.device:
            tokens = device_login(anonymous, say=output.line, resources=resources)
        else:
            timeout = float(os.environ.get(LOGIN_TIMEOUT_ENV, "300"))
            tokens = browser_login(
                anonymous,
                open_browser=not args.no_browser,
                timeout=timeout,
                say=output.line,
                resources=resources,
            )
    save(context.store, context.server, tokens)
    with AuthgateClient(context.server, tokens.access_token) as client:
        me = client.me()
    # The previous sign-in's tokens for other resources are not this one's.
    context.store.update(context.server, username=me["username"], resource_tokens=None)
    output.success(
        f"Successfully authenticated as {me['username']} on {context.server}!"
    )
    return 0


def status(args: argparse.Namespace) -> int:
    """Reads local state only for OAuth tokens (the JWT's expiry is in it); other
    tokens are checked with the server, which knows whether they still work."""
    from authgate.client._tokens import SOURCE_LABELS

    context = Context(args)
    resolved = context.token()
    if resolved is None:
        if context.json:
            output.as_json(
                {"server": context.server, "authenticated": False, "valid": False}
            )
            return 1
        output.line("Not authenticated.")
        output.line("Run 'authgate auth login' or set --token / AUTHGATE_TOKEN.")
        return 1
    entry = context.store.entry(context.server)
    info: dict[str, object] = {
        "server": context.server,
        "authenticated_via": SOURCE_LABELS[resolved.source],
        "token": resolved.masked,
        "user": entry.get("username")
        if resolved.source in ("oauth", "static")
        else None,
        "org": context.org,
        "expires_at": _iso(resolved.expires_at),
        # like ``gh auth status``: the keyring, or the file and its path
        "stored_in": context.store.location(context.server)
        if resolved.source in ("oauth", "static")
        else None,
    }
    valid = not resolved.expired
    problem = "EXPIRED — run 'authgate auth login' to re-authenticate"
    if resolved.source == "oauth" and resolved.expired and entry.get("refresh_token"):
        problem = "EXPIRED — it will be refreshed on the next command"
    if resolved.source != "oauth":
        valid, info["user"], problem = _check(context, resolved.token, problem)
    info["status"] = "Valid" if valid else problem
    if context.json:
        output.as_json({**info, "authenticated": True, "valid": valid})
        return 0 if valid else 1
    output.line(f"Server: {info['server']}")
    output.line(f"Authenticated via: {info['authenticated_via']}")
    if info["user"]:
        org = f" (org: {info['org']})" if info["org"] else ""
        output.line(f"User: {info['user']}{org}")
    output.line(f"Token: {info['token']}")
    if info["stored_in"]:
        output.line(f"Token stored in: {info['stored_in']}")
    if info["expires_at"]:
        output.line(f"Token expires: {info['expires_at']}")
    output.line(f"Status: {info['status']}")
    return 0 if valid else 1


def _check(context: Context, token: str, expired: str) -> tuple[bool, object, str]:
    from authgate.client import ApiError, AuthgateClient

    with AuthgateClient(context.server, token, org=context.org) as client:
        try:
            return True, client.me()["username"], ""
        except ApiError as exc:
            if "expired" in exc.description.lower():
                return False, None, expired
            return False, None, f"INVALID — {exc.description}"


def _iso(timestamp: float | None) -> str | None:
    """UTC, ISO 8601 (``time``, not ``datetime``: this runs on every status)."""
    if timestamp is None:
        return None
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def logout(args: argparse.Namespace) -> int:
    """Revoke the refresh token at the server (RFC 7009) and drop the OAuth
    fields; a static token stays."""
    from authgate.client import AuthgateClient, AuthgateClientError
    from authgate.client._credentials import OAUTH_FIELDS
    from authgate.client._login import CLIENT_ID

    context = Context(args)
    entry = context.store.entry(context.server)
    if not entry.get("access_token") and not entry.get("refresh_token"):
        output.line(f"No OAuth session for {context.server}.")
        return 0
    if entry.get("refresh_token"):
        with AuthgateClient(context.server) as client:
            try:
                endpoint = client.metadata()["revocation_endpoint"]
                client.request(
                    "POST",
                    endpoint,
                    data={
                        "token": str(entry["refresh_token"]),
                        "token_type_hint": "refresh_token",
                        # An older CLI's refresh token is bound to the
                        # client it registered, which alone may revoke it.
                        "client_id": str(entry.get("client_id") or CLIENT_ID),
                    },
                )
            except (AuthgateClientError, KeyError) as exc:
                output.warning(f"Could not revoke the session at the server: {exc}")
    context.store.update(context.server, **dict.fromkeys((*OAUTH_FIELDS, "client_id")))
    kept = " The static token is kept." if entry.get("auth_token") else ""
    output.success(f"Logged out of {context.server}.{kept}")
    return 0


def token(args: argparse.Namespace) -> int:
    from authgate.client._errors import HOW_TO_AUTHENTICATE

    context = Context(args)
    if args.resource:
        return _resource_token(context, args.resource)
    resolved = context.token()
    if resolved is None:
        output.error(HOW_TO_AUTHENTICATE)
        return 1
    value = resolved.token
    if resolved.source == "oauth" and resolved.expired:
        value = context._refreshed()
    output.line(value)
    return 0


def _resource_token(context: Context, resource: str) -> int:
    """A token for another resource comes from the OAuth sign-in's refresh
    token, narrowed to it; kept until it is about to expire, so scripts may
    ask for it on every call."""
    import time

    from authgate.client import ApiError, AuthgateClient
    from authgate.client._login import for_resource
    from authgate.client._tokens import EXPIRY_MARGIN

    sign_in = f"authgate auth login --resource {resource}"
    if context.args.token or os.environ.get("AUTHGATE_TOKEN"):
        output.error(
            "--resource uses the OAuth sign-in, not --token or AUTHGATE_TOKEN."
        )
        return 1
    entry = context.store.entry(context.server)
    if not entry.get("refresh_token"):
        output.error(f"No OAuth sign-in for {context.server}. Run '{sign_in}'.")
        return 1
    key = resource.rstrip("/")
    kept = dict(entry.get("resource_tokens") or {})
    cached = kept.get(key)
    fresh_until = time.time() + EXPIRY_MARGIN
    if isinstance(cached, dict) and (cached.get("expires_at") or 0) > fresh_until:
        output.line(str(cached["access_token"]))
        return 0
    with AuthgateClient(context.server) as anonymous:
        try:
            tokens = for_resource(anonymous, context.store, resource)
        except ApiError as exc:
            if exc.error != "invalid_target":
                raise
            output.error(
                f"{exc.description} Sign in for it with '{sign_in}'; the server "
                "must list it in AUTHGATE_EXTRA_RESOURCES (or "
                "AUTHGATE_MCP_RESOURCE_URI)."
            )
            return 1
    kept[key] = {"access_token": tokens.access_token, "expires_at": tokens.expires_at}
    context.store.update(context.server, resource_tokens=kept)
    output.line(tokens.access_token)
    return 0


def whoami(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        me = client.me()
    if context.json:
        output.as_json(me)
    else:
        org = f" (org: {me['org_id']})" if me.get("org_id") else ""
        output.line(f"{me['username']}{org} via {me['auth']['kind']}")
    return 0
