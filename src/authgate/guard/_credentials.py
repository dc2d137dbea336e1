"""Where a credential travels (the fastapi-users "transport" half): a session
cookie, an ``Authorization: Bearer`` header, an ``X-API-Key`` header, or — only
when the host allows it — an ``?api_key=`` query parameter."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

Transport = Literal["bearer", "header", "cookie", "query"]


@dataclass(frozen=True, slots=True)
class Credential:
    value: str
    transport: Transport
    #: who presented it, for the audit entry of a refused use (a revoked token)
    ip: str | None = None
    user_agent: str | None = None

    @property
    def is_jwt(self) -> bool:
        return self.value.count(".") == 2


#: The request headers a credential (and who presented it) is read from.
_READ = frozenset({b"authorization", b"x-api-key", b"cookie", b"user-agent"})


def _headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The first of each header in ``_READ``, in one pass over the request's
    (this runs on every request, credential or not)."""
    found: dict[bytes, str] = {}
    for key, value in headers:
        name = key.lower()
        if name in _READ and name not in found:
            found[name] = value.decode("latin-1")
    return found


def cookie(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value.strip('"')
    return None


def extract(
    headers: Iterable[tuple[bytes, bytes]],
    query_string: bytes,
    *,
    cookie_name: str | None,
    allow_query: bool,
    client: tuple[str, int] | None = None,
) -> Credential | None:
    """The one credential a request carries, most explicit transport first.
    ``client`` is the ASGI scope's peer address."""
    read = _headers(headers)
    found = _find(read, query_string, cookie_name, allow_query)
    if found is None:
        return None
    value, transport = found
    return Credential(
        value,
        transport,
        ip=client[0] if client else None,
        user_agent=read.get(b"user-agent"),
    )


def _find(
    headers: dict[bytes, str],
    query_string: bytes,
    cookie_name: str | None,
    allow_query: bool,
) -> tuple[str, Transport] | None:
    authorization = headers.get(b"authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip(), "bearer"
    api_key = headers.get(b"x-api-key")
    if api_key and api_key.strip():
        return api_key.strip(), "header"
    if cookie_name:
        value = cookie(headers.get(b"cookie"), cookie_name)
        if value:
            return value, "cookie"
    if allow_query and query_string:
        for key, value in parse_qsl(query_string.decode("latin-1")):
            # Only API keys may travel in a URL (it ends up in logs and
            # histories); a session, PAT or JWT there is ignored.
            if key == "api_key" and "_key_" in value:
                return value, "query"
    return None
