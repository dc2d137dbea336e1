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

    @property
    def is_jwt(self) -> bool:
        return self.value.count(".") == 2


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


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
) -> Credential | None:
    """The one credential a request carries, most explicit transport first."""
    headers = list(headers)
    authorization = _header(headers, b"authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return Credential(token.strip(), "bearer")
    api_key = _header(headers, b"x-api-key")
    if api_key and api_key.strip():
        return Credential(api_key.strip(), "header")
    if cookie_name:
        value = cookie(_header(headers, b"cookie"), cookie_name)
        if value:
            return Credential(value, "cookie")
    if allow_query and query_string:
        for key, value in parse_qsl(query_string.decode("latin-1")):
            # Only API keys may travel in a URL (it ends up in logs and
            # histories); a session, PAT or JWT there is ignored.
            if key == "api_key" and "_key_" in value:
                return Credential(value, "query")
    return None
