"""``/settings/security``: two-step sign-in (an authenticator app and its
recovery codes) and the recovery key, which resets a forgotten password on
``/forgot`` without an administrator.

Setting up an app shows its QR code (inline SVG, no script),
the secret as text and the ``otpauth://`` link, until a first code confirms
it; the first factor's recovery codes are shown once. The rules are the
API's (``server.second_factors``). Making a recovery key asks for the current
password (a session left open is not enough), replaces the previous key and
shows the new one once (``domain.recovery``), with its per-IP limit.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Response
from fastapi.responses import RedirectResponse

from authgate.domain import recovery
from authgate.errors import AuthgateError, RateLimited
from authgate.server import second_factors
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages.settings.credentials import shown_once
from authgate.web.pages.viewer import (
    PageRoute,
    PageViewer,
    SteppedUpForm,
    Viewer,
    viewer_page,
)

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

TOTP = f"{paths.SETTINGS_SECURITY}/totp"
TOTP_CONFIRM = f"{paths.SETTINGS_SECURITY}/totp/confirm"
TOTP_REMOVE = f"{paths.SETTINGS_SECURITY}/totp/remove"
RECOVERY_CODES = f"{paths.SETTINGS_SECURITY}/recovery-codes"


async def _security(
    viewer: Viewer,
    services: Services,
    *,
    error: str | None = None,
    factor_error: str | None = None,
    status: int = 200,
) -> Response:
    enrolment = await second_factors.pending_totp(services, viewer.user)
    return viewer_page(
        viewer,
        "settings/security.html",
        status=status,
        section="security",
        error=error,
        factor_error=factor_error,
        factors=await second_factors.summary(services, viewer.user.id),
        enrolment=enrolment,
        totp_path=TOTP,
        totp_confirm_path=TOTP_CONFIRM,
        totp_remove_path=TOTP_REMOVE,
        recovery_codes_path=RECOVERY_CODES,
    )


def recovery_codes_page(
    viewer: Viewer,
    codes: list[str],
    title: str,
    *,
    back: str = paths.SETTINGS_SECURITY,
    back_label: str = "Back to security",
) -> Response:
    """New recovery codes, shown this once (with a first factor, or
    regenerated), then back to the page the factor was set up on."""
    return viewer_page(
        viewer,
        "settings/recovery_codes.html",
        scripts=True,
        section="security",
        title=title,
        codes=codes,
        back=back,
        back_label=back_label,
    )


def _back() -> Response:
    return RedirectResponse(paths.SETTINGS_SECURITY, status_code=303)


@router.get(paths.SETTINGS_SECURITY, response_model=None)
async def security_page(viewer: PageViewer, services: ServicesDep) -> Response:
    return await _security(viewer, services)


@router.post(TOTP, response_model=None)
async def begin_totp(viewer: SteppedUpForm, services: ServicesDep) -> Response:
    """A new secret; the page then shows it until it is confirmed."""
    try:
        await second_factors.begin_totp(services, viewer.user)
    except AuthgateError as exc:
        return await _security(
            viewer, services, factor_error=exc.description, status=exc.status
        )
    return _back()


@router.post(TOTP_CONFIRM, response_model=None)
async def confirm_totp(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        codes = await second_factors.confirm_totp(
            services,
            viewer.user,
            code,
            peer,
            session_id=viewer.principal.session_id,
        )
    except AuthgateError as exc:
        return await _security(
            viewer, services, factor_error=exc.description, status=exc.status
        )
    if codes is None:
        return _back()
    return recovery_codes_page(viewer, codes, "Two-step sign-in is on")


@router.post(TOTP_REMOVE, response_model=None)
async def remove_totp(
    viewer: SteppedUpForm, services: ServicesDep, peer: PeerDep
) -> Response:
    await second_factors.remove_totp(services, viewer.user, peer)
    return _back()


@router.post(RECOVERY_CODES, response_model=None)
async def regenerate_codes(
    viewer: SteppedUpForm, services: ServicesDep, peer: PeerDep
) -> Response:
    try:
        codes = await second_factors.regenerate_codes(services, viewer.user, peer)
    except AuthgateError as exc:
        return await _security(
            viewer, services, factor_error=exc.description, status=exc.status
        )
    return recovery_codes_page(viewer, codes, "New recovery codes")


@router.post(f"{paths.SETTINGS_SECURITY}/recovery-key", response_model=None)
async def new_recovery_key(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    wait = await over_limit(services, peer, "recovery-key")
    if wait is not None:
        return retry_after(
            await _security(viewer, services, error=TOO_MANY, status=429), wait
        )
    try:
        confirmed = await services.confirm_password(viewer.user, password, peer)
        async with services.db.transaction() as tx:
            key = await recovery.issue(
                tx, confirmed, prefix=services.settings.token_prefix, peer=peer
            )
    except RateLimited as exc:
        return retry_after(
            await _security(viewer, services, error=exc.description, status=429),
            exc.retry_after,
        )
    except AuthgateError as exc:
        return await _security(
            viewer, services, error=exc.description, status=exc.status
        )
    return shown_once(
        viewer,
        section="security",
        title="Recovery key created",
        what="Your recovery key",
        secret=key,
        back=paths.SETTINGS_SECURITY,
        back_label="Back to security",
    )
