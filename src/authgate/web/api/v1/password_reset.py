"""Password reset by mailed link: asking for one (``POST
/api/v1/auth/forgot``) and using it (``POST /api/v1/auth/reset``).

Asking answers ``202`` with one body whatever the address, so the answer
never tells whether it belongs to an account (``domain.password_reset``).
The link's token is the credential of the second; a wrong, used or expired
one gets one answer.
"""

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import Field

from authgate.server import password_reset
from authgate.web.deps import PeerDep, ServicesDep, rate_limit
from authgate.web.schemas import RequestBody, ResponseBody

router = APIRouter(prefix="/auth", tags=["auth"])

#: the one answer to every request for a link
ON_ITS_WAY = (
    "A message is on its way to that address. If it belongs to an account "
    "here, it holds a link to choose a new password, which works for 30 minutes."
)


class ForgotIn(RequestBody):
    email: Annotated[str, Field(min_length=1, max_length=320)]


class ForgotOut(ResponseBody):
    detail: str


class ResetIn(RequestBody):
    #: from ``?token=`` in the mailed link
    token: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post(
    "/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[rate_limit(password_reset.BUCKET)],
    summary="Ask for a password-reset link",
)
async def forgot(body: ForgotIn, services: ServicesDep, peer: PeerDep) -> ForgotOut:
    """Mail a link to choose a new password to the account whose verified
    address this is; the same answer for any address."""
    await password_reset.ask(services, body.email, peer=peer)
    return ForgotOut(detail=ON_ITS_WAY)


@router.post(
    "/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[rate_limit(password_reset.BUCKET)],
    summary="Set a new password with a mailed link",
)
async def reset(body: ResetIn, services: ServicesDep, peer: PeerDep) -> Response:
    """Set a new password with a mailed link's ``token``; every session and
    refresh token of the account ends."""
    await password_reset.reset(services, body.token, body.new_password, peer=peer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
