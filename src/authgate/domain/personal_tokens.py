"""Personal access tokens: a person's own credential for scripts and CI, always
expiring (at most ``AUTHGATE_PAT_MAX_DAYS``), optionally narrowed by scopes."""

from datetime import timedelta

from authgate.domain import credentials
from authgate.domain.context import Peer
from authgate.errors import Forbidden, InvalidRequest
from authgate.util import clock

#: What a token may be allowed to do. ``admin`` reaches the administration
#: endpoints, for an administrator's token only (``authority``).
SCOPES = ("read", "write", "admin")
#: What a token gets when none are named: never ``admin``, which is asked for
#: by name.
DEFAULT_SCOPES = ("read", "write")


def check_scopes(scopes: list[str] | None) -> tuple[str, ...]:
    if scopes is None:
        return DEFAULT_SCOPES
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidRequest(
            f"Unknown scope: {', '.join(unknown)}. Choose from: {', '.join(SCOPES)}."
        )
    if not scopes:
        raise InvalidRequest("A token needs at least one scope.")
    return tuple(s for s in SCOPES if s in scopes)


async def create(
    stores: credentials.Tx,
    *,
    prefix: str,
    user_id: str,
    name: str,
    expires_in_days: int,
    max_days: int,
    scopes: list[str] | None,
    org_id: str | None,
    peer: Peer,
    parent: credentials.Parent,
) -> tuple[credentials.Credential, str]:
    """``parent``: the credential making this one, its ceiling."""
    if not 1 <= expires_in_days <= max_days:
        raise InvalidRequest(f"expires_in_days must be between 1 and {max_days}.")
    granted = check_scopes(scopes)
    if "admin" in granted and "admin" not in parent.scopes:
        raise Forbidden(
            "Only an instance administrator, signed in or with a token that has "
            "the admin scope, can give a token the admin scope."
        )
    expires_at = parent.bound(granted, clock.now() + timedelta(days=expires_in_days))
    return await credentials.issue(
        stores,
        kind="pat",
        prefix=prefix,
        user_id=user_id,
        name=name,
        scopes=granted,
        expires_at=expires_at,
        org_id=org_id,
        peer=peer,
    )
