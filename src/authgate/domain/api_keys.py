"""API keys for server-to-server calls: read-only or read-write, no expiry unless
asked, owned by an organization when created in one (else by their creator)."""

from datetime import timedelta
from typing import Literal

from authgate.domain import credentials
from authgate.domain.context import Peer
from authgate.errors import InvalidRequest
from authgate.util import clock

Permission = Literal["read", "write"]
MAX_DAYS = 3650

_SCOPES: dict[str, tuple[str, ...]] = {"read": ("read",), "write": ("read", "write")}


def permission_of(scopes: tuple[str, ...]) -> Permission:
    return "write" if "write" in scopes else "read"


async def create(
    stores: credentials.Tx,
    *,
    prefix: str,
    user_id: str,
    name: str,
    permission: Permission,
    expires_in_days: int | None,
    org_id: str | None,
    peer: Peer,
    parent: credentials.Parent,
) -> tuple[credentials.Credential, str]:
    """``parent``: the credential making this key, its ceiling (a key made
    with a one-day read-write token is read-write at most and ends with it)."""
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise InvalidRequest(f"expires_in_days must be between 1 and {MAX_DAYS}.")
    scopes = _SCOPES[permission]
    expires_at = parent.bound(
        scopes,
        clock.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return await credentials.issue(
        stores,
        kind="key",
        prefix=prefix,
        user_id=user_id,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        org_id=org_id,
        peer=peer,
    )
