"""A person's second factors: ``/api/v1/me/factors`` (an authenticator app
and recovery codes; passkeys are counted here and managed under
``/api/v1/me/passkeys``). Only the person themselves, with a credential that
may change how they sign in (``Power.SIGN_IN``)."""

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import Field

from authgate.domain.users import User
from authgate.errors import Forbidden, NotFound
from authgate.guard import Principal
from authgate.server import second_factors
from authgate.server.services import Services
from authgate.web.deps import ChangesSignIn, PeerDep, ServicesDep
from authgate.web.schemas import RequestBody, ResponseBody, failures

router = APIRouter(prefix="/me/factors", tags=["factors"])


class FactorsOut(ResponseBody):
    totp: bool  #: an authenticator app is set up (and confirmed)
    totp_pending: bool  #: one was begun and awaits its first code
    passkeys: int
    recovery_codes_left: int


class TotpEnrolmentOut(ResponseBody):
    secret: str  #: base32, for typing into the app
    otpauth_uri: str  #: for a QR code


class TotpConfirmIn(RequestBody):
    code: Annotated[str, Field(min_length=1, max_length=16)]


class RecoveryCodesOut(ResponseBody):
    #: shown once; ``null`` when the app was not the first factor (the
    #: existing codes stay)
    recovery_codes: list[str] | None


async def _person(services: Services, caller: Principal) -> User:
    user = await services.user(caller.user_id) if caller.user_id else None
    if user is None:
        raise Forbidden("Second factors belong to a signed-in person.")
    return user


@router.get("", summary="List your second factors")
async def list_factors(caller: ChangesSignIn, services: ServicesDep) -> FactorsOut:
    user = await _person(services, caller)
    found = await second_factors.summary(services, user.id)
    return FactorsOut(
        totp=found.totp,
        totp_pending=found.totp_pending,
        passkeys=found.passkeys,
        recovery_codes_left=found.recovery_codes_left,
    )


@router.post(
    "/totp",
    status_code=status.HTTP_201_CREATED,
    summary="Start setting up an authenticator app",
    responses=failures(409),
)
async def begin_totp(caller: ChangesSignIn, services: ServicesDep) -> TotpEnrolmentOut:
    """A new secret for an authenticator app (replacing one not confirmed
    yet); confirm it with a first code. 409 when one is set up already."""
    user = await _person(services, caller)
    started = await second_factors.begin_totp(services, user)
    return TotpEnrolmentOut(secret=started.secret, otpauth_uri=started.uri)


@router.post(
    "/totp/confirm", summary="Turn the authenticator app on with its first code"
)
async def confirm_totp(
    body: TotpConfirmIn, caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> RecoveryCodesOut:
    """The app's first code turns it on. The first factor comes with ten
    recovery codes, shown this once."""
    user = await _person(services, caller)
    codes = await second_factors.confirm_totp(
        services, user, body.code, peer, session_id=caller.session_id
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete(
    "/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the authenticator app",
    responses=failures(404),
)
async def remove_totp(
    caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> Response:
    user = await _person(services, caller)
    if not await second_factors.remove_totp(services, user, peer):
        raise NotFound("No authenticator app is set up.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/recovery-codes",
    status_code=status.HTTP_201_CREATED,
    summary="Replace your recovery codes",
    responses=failures(409),
)
async def regenerate_recovery_codes(
    caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> RecoveryCodesOut:
    """Ten new recovery codes, replacing all the old ones. 409 without a
    second factor."""
    user = await _person(services, caller)
    codes = await second_factors.regenerate_codes(services, user, peer)
    return RecoveryCodesOut(recovery_codes=codes)
