"""Personal access tokens: a person's own credential for scripts and CI, always
expiring (at most ``AUTHGATE_PAT_MAX_DAYS``), optionally narrowed by scopes."""

from datetime import timedelta
from typing import TYPE_CHECKING

from authgate.domain import credentials
from authgate.domain.context import ClientInfo
from authgate.errors import InvalidRequest
from authgate.util import clock

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

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
) -> tuple[credentials.Credential, str]:
    if not 1 <= expires_in_days <= max_days:
        raise InvalidRequest(f"expires_in_days must be between 1 and {max_days}.")
    return await credentials.issue(
        stores,
        kind="pat",
        prefix=prefix,
        user_id=user_id,
        name=name,
        scopes=check_scopes(scopes),
        expires_at=clock.now() + timedelta(days=expires_in_days),
        org_id=org_id,
        client=client,
    )
