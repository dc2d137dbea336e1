"""The request and response values the HTTP adapter
(``authgate.web.authorization_server.endpoints``) adapts to and from.

Parameters keep every value they were given, because RFC 6749 §3.1 refuses a
parameter sent twice (``invalid_request``) while RFC 8707 §2 lets ``resource``
repeat, and treats a parameter sent without a value as omitted.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from authgate.domain.context import NO_PEER, Peer
from authgate.errors import AuthgateError
from authgate.oauth.errors import InvalidRequest

#: RFC 6749 §5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Longest value accepted for any one parameter (a JWT-sized token fits).
MAX_VALUE = 8192


@dataclass(frozen=True, slots=True)
class OAuthRequest:
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The ``Authorization`` header, as sent.
    authorization: str | None = None
    peer: Peer = NO_PEER

    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[tuple[str, str]],
        *,
        authorization: str | None = None,
        peer: Peer = NO_PEER,
    ) -> "OAuthRequest":
        params: dict[str, list[str]] = {}
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        return cls({k: tuple(v) for k, v in params.items()}, authorization, peer)

    def get(self, name: str) -> str | None:
        """The one value of ``name``; ``None`` when absent or empty."""
        values = [v for v in self.params.get(name, ()) if v]
        if len(values) > 1:
            raise InvalidRequest(f"The parameter '{name}' was given more than once.")
        if values and len(values[0]) > MAX_VALUE:
            raise InvalidRequest(f"The parameter '{name}' is too long.")
        return values[0] if values else None

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise InvalidRequest(f"The parameter '{name}' is required.")
        return value

    def all(self, name: str) -> tuple[str, ...]:
        """Every value of a parameter that may repeat (``resource``)."""
        values = tuple(dict.fromkeys(v for v in self.params.get(name, ()) if v))
        if any(len(v) > MAX_VALUE for v in values):
            raise InvalidRequest(f"The parameter '{name}' is too long.")
        return values


@dataclass(frozen=True, slots=True)
class OAuthResponse:
    body: Mapping[str, Any]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def ok(cls, body: Mapping[str, Any], status: int = 200) -> "OAuthResponse":
        return cls(body, status, NO_STORE)

    @classmethod
    def error(cls, exc: AuthgateError) -> "OAuthResponse":
        headers = {**NO_STORE, **exc.headers}
        return cls(
            {"error": exc.code, "error_description": exc.description},
            exc.status,
            headers,
        )
