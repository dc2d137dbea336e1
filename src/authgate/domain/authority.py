"""What a credential may do, decided here and nowhere else.

A token handed to an application is not its person: an application the
person approved once (a dynamically registered client, whatever its name)
must not be able to turn that approval into the person's whole account, let
alone an administrator's. So a credential's powers follow from what it is,
not only from whose it is:

- **first party** (the session cookie, single-user mode's owner, the tokens
  of Authgate's own sign-in and of the Authgate CLI's built-in OAuth client):
  the person's full rights, administration included when the person is an
  administrator;
- **a personal access token**: the person's own scripts, so it may manage
  their credentials, sessions and memberships, bounded by itself (see
  :func:`parent`), but never how the person signs in (password, email,
  recovery key); administration only with the ``admin`` scope;
- **any other OAuth client's token**: the consented scopes and nothing more;
  administration only with the ``admin`` scope, which only an administrator
  can grant and only to a client an administrator registered
  (:func:`grantable`, ``Client.allowed_scopes``);
- **an API key**, a **client-credentials token** (no person) and **another
  issuer's token**: the scopes only.

Reading and writing data are the scopes' business (``read``, ``write``); the
powers below are what scopes alone do not express.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from authgate.domain.clients import ADMIN_SCOPE, FIRST_PARTY_CLIENTS, Registration
from authgate.domain.credentials import Parent
from authgate.errors import Forbidden, InsufficientScope


class Power(enum.StrEnum):
    #: Create or revoke personal access tokens and API keys.
    CREDENTIALS = "credentials"
    #: End sessions; create, delete and join organizations, invite, change
    #: roles, remove members.
    ACCOUNT = "account"
    #: Change how the person signs in: password, email, recovery key.
    SIGN_IN = "sign_in"
    #: The instance administration endpoints.
    ADMIN = "admin"


_REFUSED = {
    Power.CREDENTIALS: "Only the person, signed in to Authgate or with a personal "
    "access token, can create or revoke access tokens and API keys; "
    "this credential cannot.",
    Power.ACCOUNT: "Only the person, signed in to Authgate or with a personal "
    "access token, can end sessions or change organization memberships; "
    "this credential cannot.",
    Power.SIGN_IN: "Only the person signed in to Authgate can change how they "
    "sign in (password, email, recovery key); this credential cannot.",
}
_NO_PERSON = "This credential does not act for a person; this needs one."


@dataclass(frozen=True, slots=True)
class Holder:
    """A presented credential, as far as its powers go."""

    #: As the guard names it: ``session``, ``local``, ``jwt``, ``client``,
    #: ``pat``, ``api_key``.
    kind: str
    scopes: frozenset[str]
    #: The OAuth client a token was issued to.
    client_id: str | None = None
    #: The person it acts for (none for a client-credentials token).
    user_id: str | None = None
    #: The PAT's or key's own id (the JWT's ``jti``, the session's id).
    credential_id: str | None = None
    #: Whether that person is an instance administrator, now.
    user_is_admin: bool = False
    #: Issued by another issuer (``AUTHGATE_API_OAUTH_ISSUER``): its client ids
    #: are that issuer's, never Authgate's own.
    foreign: bool = False
    expires_at: datetime | None = None

    @property
    def first_party(self) -> bool:
        if self.foreign or self.user_id is None:
            return False
        if self.kind in ("session", "local"):
            return True
        return self.kind == "jwt" and self.client_id in FIRST_PARTY_CLIENTS


def powers(holder: Holder) -> frozenset[Power]:
    if holder.user_id is None or holder.foreign:
        return frozenset()
    if holder.first_party:
        granted = {Power.CREDENTIALS, Power.ACCOUNT, Power.SIGN_IN}
        return frozenset(granted | ({Power.ADMIN} if holder.user_is_admin else set()))
    granted = {Power.CREDENTIALS, Power.ACCOUNT} if holder.kind == "pat" else set()
    if (
        holder.kind in ("pat", "jwt")
        and holder.user_is_admin
        and ADMIN_SCOPE in holder.scopes
    ):
        granted.add(Power.ADMIN)
    return frozenset(granted)


def require(holder: Holder, power: Power) -> str:
    """The id of the person the credential acts for, when it has ``power``;
    else a 403 that says why."""
    if power in powers(holder) and holder.user_id is not None:
        return holder.user_id
    if holder.user_id is None:
        raise Forbidden(_NO_PERSON)
    if power is Power.ADMIN:
        if not holder.user_is_admin:
            raise Forbidden("This needs an instance administrator.")
        if holder.foreign:
            raise Forbidden(
                "A token from another issuer never administers this server."
            )
        raise InsufficientScope(
            "Administration needs a first-party sign-in, or a token with the "
            "admin scope (an API key never reaches it)."
        )
    raise Forbidden(_REFUSED[power])


def require_revoke(holder: Holder, credential_id: str) -> None:
    """Revoking a PAT or API key needs :attr:`Power.CREDENTIALS`, except by
    itself: a PAT or key may end itself, which only ever takes power away. (A
    JWT's id is its ``jti``, which another issuer chooses: it never counts.)"""
    itself = holder.kind in ("pat", "api_key") and credential_id == holder.credential_id
    if not itself:
        require(holder, Power.CREDENTIALS)


def parent(holder: Holder) -> Parent:
    """What a credential made by ``holder`` may not exceed: a personal access
    token's own lifetime and scopes (a leaked short-lived or read-only token
    cannot become a long-lived or stronger one); for a first-party sign-in,
    what the person may delegate. ``admin`` only from a holder that may
    administer."""
    require(holder, Power.CREDENTIALS)
    delegable = set(holder.scopes) - {ADMIN_SCOPE}
    if Power.ADMIN in powers(holder):
        delegable.add(ADMIN_SCOPE)
    return Parent(
        scopes=frozenset(delegable),
        expires_at=holder.expires_at if holder.kind == "pat" else None,
    )


def grantable(
    scopes: Iterable[str], *, registration: Registration, approver_is_admin: bool
) -> tuple[str, ...]:
    """The scopes a grant actually carries: ``admin`` only when an
    administrator approved it for a client an administrator registered.
    Dropped, not refused: the rest of what the person approved stands."""
    keep_admin = approver_is_admin and registration == "admin"
    return tuple(s for s in scopes if s != ADMIN_SCOPE or keep_admin)
