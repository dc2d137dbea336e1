"""Verified addresses: following a mailed link (``POST
/api/v1/auth/verify-email``) and asking for the link again (``POST
/api/v1/me/email/verification``).

The link's token is the credential of the first, so it needs no sign-in; it
is single use (``domain.verification``). The second mails the address
waiting (a new one asked for, else an unverified current one) a new link,
a few times a minute per account (``server.mailing.resend_allowed``), so an
account cannot be made to flood an address.
"""

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import Field

from authgate.domain import verification
from authgate.errors import Forbidden
from authgate.server.mailing import mailing, resend_allowed
from authgate.web.deps import ManagesAccount, PeerDep, ServicesDep, rate_limit
from authgate.web.schemas import RequestBody, ResponseBody, failures

router = APIRouter(tags=["me"])

NOT_A_USER = "This credential does not belong to a user."


class VerifyIn(RequestBody):
    token: Annotated[str, Field(min_length=1, max_length=256)]


class VerifiedOut(ResponseBody):
    email: str
    email_verified: bool


class SentOut(ResponseBody):
    #: the address the new link went to
    email: str


@router.post(
    "/auth/verify-email",
    dependencies=[rate_limit("verify-email")],
    summary="Verify an email address with a mailed link",
)
async def verify_email(
    body: VerifyIn, services: ServicesDep, peer: PeerDep
) -> VerifiedOut:
    """Follow a verification link: its ``token`` (from ``?token=`` in the
    mailed link); the address it verified."""
    async with services.db.transaction() as tx:
        user = await verification.confirm(tx, services.notices, body.token, peer=peer)
    return VerifiedOut(email=user.email or "", email_verified=user.email_verified)


@router.post(
    "/me/email/verification",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification link",
    responses=failures(400, 429),
)
async def resend(caller: ManagesAccount, services: ServicesDep) -> SentOut:
    """Mail a new verification link to the address waiting: a new one asked
    for, else an unverified current one (an earlier link stops working)."""
    if caller.user_id is None:
        raise Forbidden(NOT_A_USER)
    await resend_allowed(services, caller.user_id)
    async with services.db.transaction() as tx:
        user = await tx.users.get(caller.user_id)
        if user is None:
            raise Forbidden(NOT_A_USER)
        address = await verification.resend(tx, mailing(services), user)
    return SentOut(email=address)
