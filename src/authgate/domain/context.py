"""Who is on the other end of a use case: address and user agent, which
sessions and the audit log record."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Peer:
    ip: str | None = None
    user_agent: str | None = None


NO_PEER = Peer()
