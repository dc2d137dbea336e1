"""Talk to an Authgate server from Python: the SDK the ``authgate`` CLI is built on.

Imports nothing from the server side, so scripts can use it with only httpx.
Names load on first use (PEP 562), so importing one light part (the
credentials file, say) does not pay for httpx: that keeps the CLI fast.
"""

from importlib import import_module

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up
if TYPE_CHECKING:
    from typing import Any

    from authgate.client._client import AuthgateClient
    from authgate.client._credentials import (
        CredentialsFile,
        config_dir,
        normalize_server,
    )
    from authgate.client._errors import (
        ApiError,
        AuthgateClientError,
        NotAuthenticated,
        ServerUnreachable,
    )
    from authgate.client._tokens import ResolvedToken, mask, resolve

_WHERE = {
    "AuthgateClient": "_client",
    "CredentialsFile": "_credentials",
    "config_dir": "_credentials",
    "normalize_server": "_credentials",
    "ApiError": "_errors",
    "AuthgateClientError": "_errors",
    "NotAuthenticated": "_errors",
    "ServerUnreachable": "_errors",
    "ResolvedToken": "_tokens",
    "mask": "_tokens",
    "resolve": "_tokens",
}

__all__ = [
    "ApiError",
    "AuthgateClient",
    "AuthgateClientError",
    "CredentialsFile",
    "NotAuthenticated",
    "ResolvedToken",
    "ServerUnreachable",
    "config_dir",
    "mask",
    "normalize_server",
    "resolve",
]


def __getattr__(name: str) -> "Any":
    if name not in _WHERE:
        raise AttributeError(f"module 'authgate.client' has no attribute {name!r}")
    return getattr(import_module(f"authgate.client.{_WHERE[name]}"), name)
