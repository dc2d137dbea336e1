from dataclasses import dataclass, field
from typing import Literal

#: How the caller proved who they are.
Kind = Literal["session", "jwt", "pat", "api_key", "client", "local"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request, whatever credential it used.

    Example:
        >>> p = Principal(subject="usr_1", kind="jwt", scopes=frozenset({"read"}))
        >>> p.has_scope("read")
        True
    """

    subject: str
    kind: Kind
    credential_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    client_id: str | None = None
    org_id: str | None = None
    #: The caller's role in ``org_id`` (a token's ``roles`` claim beside its
    #: ``org``, or the server's live membership).
    role: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: Instance roles, which only the Authgate server sets, from the user
    #: (never from a token): ``is_admin`` reads them.
    roles: frozenset[str] = field(default_factory=frozenset)
    expires_at: float | None = None
    #: The ``iss`` of a JWT; ``None`` for opaque credentials.
    issuer: str | None = None
    #: When the person last proved who they are (OIDC ``auth_time``, seconds
    #: since the epoch), how (``amr``, RFC 8176) and the level that reached
    #: (``acr``): what a step-up check (RFC 9470) reads. A session says its
    #: own; a token what it was issued with; credentials without a sign-in
    #: behind them (a client's token, a PAT, an API key) say nothing.
    auth_time: float | None = None
    amr: tuple[str, ...] = ()
    acr: str | None = None

    def has_scope(self, *scopes: str) -> bool:
        return all(s in self.scopes for s in scopes)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def to_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "credential_id": self.credential_id,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "client_id": self.client_id,
            "org_id": self.org_id,
            "role": self.role,
            "scopes": sorted(self.scopes),
            "roles": sorted(self.roles),
            "expires_at": self.expires_at,
            "issuer": self.issuer,
            "auth_time": self.auth_time,
            "amr": list(self.amr),
            "acr": self.acr,
        }
