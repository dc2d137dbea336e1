"""Resource indicators (RFC 8707): which audience a token is for.

Clients name the resource (``resource``, repeatable) on the authorization,
device and token requests; Authgate issues tokens only for resources it knows
(the API itself, the MCP server, the extra resources an operator listed), so a
token minted for one server is refused by every other. No ``resource`` means
the API. At the token endpoint a client may narrow the audience of what was
granted, never widen it (§2.2).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from authgate.oauth.errors import InvalidTarget


def _key(uri: str) -> str:
    return uri.rstrip("/")


@dataclass(frozen=True, slots=True)
class Resources:
    #: Every resource tokens may be issued for; the first is the default.
    allowed: tuple[str, ...]

    @property
    def default(self) -> str:
        return self.allowed[0]

    def canonical(self, uri: str) -> str:
        """The allowlisted spelling of ``uri`` (a trailing slash is not a
        different resource), or ``invalid_target``."""
        parts = urlsplit(uri)
        if not parts.scheme or not parts.netloc or "#" in uri:
            # RFC 8707 §2: an absolute URI without a fragment.
            raise InvalidTarget(f"{uri} is not an absolute URI without a fragment.")
        for known in self.allowed:
            if _key(known) == _key(uri):
                return known
        raise InvalidTarget(f"Tokens for {uri} are not issued here.")

    def select(self, requested: Sequence[str]) -> tuple[str, ...]:
        """The audiences an authorization (or client credentials) request asks
        for; none named: the API."""
        if not requested:
            return (self.default,)
        return tuple(dict.fromkeys(self.canonical(r) for r in requested))

    def narrow(
        self, granted: Sequence[str], requested: Sequence[str]
    ) -> tuple[str, ...]:
        """The audiences a token request may have out of what was granted."""
        if not requested:
            return tuple(granted)
        chosen = tuple(dict.fromkeys(self.canonical(r) for r in requested))
        wider = [r for r in chosen if r not in granted]
        if wider:
            raise InvalidTarget(
                f"{', '.join(wider)} was not part of the grant; a token request "
                "may narrow the audience, not widen it."
            )
        return chosen

    def by_path(self, path: str) -> str | None:
        """The resource whose RFC 9728 §3.1 metadata lives at
        ``/.well-known/oauth-protected-resource{path}``."""
        wanted = "/" + path.strip("/")
        for uri in self.allowed:
            own = urlsplit(uri).path.rstrip("/")
            if own and own == wanted.rstrip("/"):
                return uri
        return None


def audience(resources: Sequence[str]) -> str | list[str]:
    """The ``aud`` claim: a string for one resource (what most verifiers expect),
    a list for several (RFC 7519 §4.1.3)."""
    return resources[0] if len(resources) == 1 else list(resources)
