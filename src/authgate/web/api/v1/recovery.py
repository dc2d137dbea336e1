"""Recovery keys: ``POST /api/v1/recovery-key`` makes one (the reset itself is
``POST /api/v1/auth/recover``)."""

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import Field

from authgate.domain import recovery
from authgate.errors import Forbidden
from authgate.web.deps import ChangesSignIn, PeerDep, ServicesDep, rate_limit
from authgate.web.schemas import RequestBody, ResponseBody

router = APIRouter(prefix="/recovery-key", tags=["recovery"])


class RecoveryKeyIn(RequestBody):
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RecoveryKeyOut(ResponseBody):
    recovery_key: str


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[rate_limit("recovery-key")],
    summary="Create a recovery key",
)
async def create_recovery_key(
    body: RecoveryKeyIn, caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> RecoveryKeyOut:
    """A new one-time recovery key (shown once), replacing any previous one.
    Asks for the current password, so a stolen session alone cannot make one."""
    user = await services.user(caller.user_id) if caller.user_id else None
    if user is None:
        raise Forbidden("Recovery keys are made by a signed-in person.")
    confirmed = await services.confirm_password(user, body.password, peer)
    async with services.db.transaction() as tx:
        key = await recovery.issue(
            tx, confirmed, prefix=services.settings.token_prefix, peer=peer
        )
    return RecoveryKeyOut(recovery_key=key)
