"""Options every client command shares, and the context they resolve to.

``--server`` (env ``AUTHGATE_SERVER``, else the last server used, else
``http://127.0.0.1:8000``), ``--token`` (env ``AUTHGATE_TOKEN``), ``--json``
(``--debug``, which every command takes, is added in ``cli/__init__.py``). They
go after the subcommand: ``authgate auth status --server URL``.
"""

import argparse
import os

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable

    from authgate.client import AuthgateClient, ResolvedToken

DEFAULT_SERVER = "http://127.0.0.1:8000"


def whole_number(low: int, high: int, unit: str = "") -> "Callable[[str], int]":
    """An argparse ``type``: a whole number (of ``unit``) from ``low`` to
    ``high``, else a one-line usage error saying so."""
    of = f" of {unit}" if unit else ""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number{of}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def client_options() -> argparse.ArgumentParser:
    from authgate.cli import HelpFormatter

    parent = argparse.ArgumentParser(add_help=False, formatter_class=HelpFormatter)
    group = parent.add_argument_group("connection")
    group.add_argument("--server", help="Authgate URL (env AUTHGATE_SERVER).")
    group.add_argument("--token", help="Token to use instead of the stored one.")
    group.add_argument("--json", action="store_true", help="Print JSON for scripts.")
    return parent


class Context:
    """What a client command needs: where the server is, which token to send."""

    def __init__(self, args: argparse.Namespace) -> None:
        from authgate.client._credentials import CredentialsFile, normalize_server

        self.args = args
        self.json: bool = bool(getattr(args, "json", False))
        self.store: CredentialsFile = CredentialsFile()
        server = (
            getattr(args, "server", None)
            or os.environ.get("AUTHGATE_SERVER")
            or self.store.last_server
            or DEFAULT_SERVER
        )
        self.server: str = normalize_server(server)

    def token(self) -> "ResolvedToken | None":
        from authgate.client._tokens import resolve

        return resolve(self.server, getattr(self.args, "token", None), self.store)

    @property
    def org(self) -> str | None:
        value = self.store.entry(self.server).get("org")
        return str(value) if value else None

    def client(self, *, authenticated: bool = True) -> "AuthgateClient":
        """A client for this server, with a live token (an expired OAuth access
        token is refreshed first)."""
        from authgate.client import AuthgateClient, NotAuthenticated

        if not authenticated:
            return AuthgateClient(self.server)
        resolved = self.token()
        if resolved is None:
            raise NotAuthenticated
        token = resolved.token
        if resolved.source != "oauth":
            return AuthgateClient(self.server, token, org=self.org)
        if resolved.expired:
            token = self._refreshed()
        # Refused before it expires (revoked with every login of the person,
        # say): refreshed once; a refused refresh says to sign in again.
        return AuthgateClient(self.server, token, org=self.org, refresh=self._refreshed)

    def _refreshed(self) -> str:
        from authgate.client import (
            AuthgateClient,
            AuthgateClientError,
            NotAuthenticated,
        )
        from authgate.client._login import refresh

        if not self.store.entry(self.server).get("refresh_token"):
            raise NotAuthenticated(
                "Your session has expired. Run 'authgate auth login'."
            )
        with AuthgateClient(self.server) as anonymous:
            try:
                return refresh(anonymous, self.store).access_token
            except AuthgateClientError:
                raise NotAuthenticated(
                    "Your session has expired. Run 'authgate auth login'."
                ) from None
