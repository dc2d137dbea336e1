"""Personal access tokens: a person's own credential for scripts and CI, always
expiring (at most ``AUTHGATE_PAT_MAX_DAYS``), optionally narrowed by scopes."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from authgate.domain import credentials
from authgate.domain.context import ClientInfo
from authgate.errors import Forbidden, InvalidRequest
from authgate.util import clock

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


@dataclass(frozen=True, slots=True)
class Parent:
    expires_at: datetime | None
    scopes: frozenset[str]


#: What a token may be allowed to do; a token gets every one unless narrowed.
SCOPES = ("read", "write")


def check_scopes(scopes: list[str] | None) -> tuple[str, ...]:
    if scopes is None:
        return SCOPES
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidRequest(
            f"Unknown scope: {', '.join(unknown)}. Choose from: {', '.join(SCOPES)}."
        )
    if not scopes:
        raise InvalidRequest("A token needs at least one scope.")
    return tuple(s for s in SCOPES if s in scopes)


async def create(
    stores: "Stores",
    *,
    prefix: str,
    user_id: str,
    name: str,
    expires_in_days: int,
    max_days: int,
    scopes: list[str] | None,
    org_id: str | None,
    client: ClientInfo,
    parent: "Parent | None" = None,
) -> tuple[credentials.Credential, str]:
    """``parent``: the long-lived credential making this one, if any. A token
    made with a token can neither outlive it nor do more than it, so a leaked
    short-lived token cannot be turned into a long-lived one."""
    if not 1 <= expires_in_days <= max_days:
        raise InvalidRequest(f"expires_in_days must be between 1 and {max_days}.")
    expires_at = clock.now() + timedelta(days=expires_in_days)
    granted = check_scopes(scopes)
    if parent is not None:
        if parent.expires_at is not None and expires_at > parent.expires_at:
            # Whole days are the unit people ask in: within the parent's last
            # day the new token simply ends with it; beyond, it is refused.
            if expires_at - parent.expires_at >= timedelta(days=1):
                raise Forbidden("A token made with a token cannot outlive it.")
            expires_at = parent.expires_at
        if not set(granted) <= parent.scopes:
            raise Forbidden(
                "A token made with a token cannot have more scopes than it."
            )
    return await credentials.issue(
        stores,
        kind="pat",
        prefix=prefix,
        user_id=user_id,
        name=name,
        scopes=granted,
        expires_at=expires_at,
        org_id=org_id,
        client=client,
    )
