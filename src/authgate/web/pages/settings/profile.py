"""``/settings/profile``: the account's email address and password.

A new address waits for the link mailed to it (``domain.verification``): the
page says whether the address is verified or a new one waits, and mails the
link again on request. A new password needs the current one and ends every
other session of the person (``domain.account``); the session making the
change stays signed in. Deleting the account needs the password too (an
account without one, signed in upstream, only the recent sign-in every
sensitive action needs: ``server.self_deletion``), and lands signed out on
the sign-in page.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Response
from fastapi.responses import RedirectResponse

from authgate.domain import account, users, verification
from authgate.errors import AuthgateError, RateLimited
from authgate.server.mailing import mailing, resend_allowed
from authgate.server.self_deletion import delete_own
from authgate.web import paths, session_cookies
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages.viewer import (
    FormViewer,
    PageRoute,
    PageViewer,
    SteppedUpForm,
    Viewer,
    viewer_page,
)

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

#: What a finished change says, keyed by the ``done`` query value it lands with.
DONE = {
    "email": "Your email address is saved.",
    "email_sent": "We sent a link to your new address: follow it within 24 hours "
    "to make it yours. Until then your account keeps its current address.",
    "email_resent": "We sent you a new link: follow it within 24 hours. Earlier "
    "links no longer work.",
    "password": "Your password is changed. Every other session has been signed out.",
}


def _profile(
    viewer: Viewer,
    *,
    done: str | None = None,
    email: str | None = None,
    failed: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    """``failed``: which form (``email``, ``verification`` or ``password``) was
    refused, and why."""
    return viewer_page(
        viewer,
        "settings/profile.html",
        status=status,
        section="profile",
        done=DONE.get(done or ""),
        # a new address waiting is what the form holds: saving it again
        # mails a new link, not a withdrawal
        email=(viewer.user.new_email or viewer.user.email or "")
        if email is None
        else email,
        email_verified=viewer.user.email_verified,
        new_email=viewer.user.new_email,
        waiting=verification.pending(viewer.user),
        has_password=viewer.user.password_hash is not None,
        failed_form=failed[0] if failed else None,
        error=failed[1] if failed else None,
    )


@router.get(paths.SETTINGS_PROFILE, response_model=None)
async def profile_page(
    viewer: PageViewer,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    return _profile(viewer, done=done)


@router.post(f"{paths.SETTINGS_PROFILE}/email", response_model=None)
async def change_email(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    try:
        async with services.db.transaction() as tx:
            sent_to = await account.change_email(
                tx,
                mailing(services),
                viewer.user,
                email,
                peer=peer,
                allowlist=services.allowlist,
            )
    except AuthgateError as exc:
        return _profile(
            viewer, email=email, failed=("email", exc.description), status=exc.status
        )
    done = "email_sent" if sent_to else "email"
    return RedirectResponse(f"{paths.SETTINGS_PROFILE}?done={done}", status_code=303)


@router.post(f"{paths.SETTINGS_PROFILE}/email/verification", response_model=None)
async def resend_link(viewer: FormViewer, services: ServicesDep) -> Response:
    try:
        await resend_allowed(services, viewer.user.id)
        async with services.db.transaction() as tx:
            user = await tx.users.get(viewer.user.id)
            await verification.resend(tx, mailing(services), user or viewer.user)
    except RateLimited as exc:
        return retry_after(
            _profile(viewer, failed=("verification", exc.description), status=429),
            exc.retry_after,
        )
    except AuthgateError as exc:
        return _profile(
            viewer, failed=("verification", exc.description), status=exc.status
        )
    return RedirectResponse(
        f"{paths.SETTINGS_PROFILE}?done=email_resent", status_code=303
    )


@router.post(f"{paths.SETTINGS_PROFILE}/password", response_model=None)
async def change_password(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if new_password != confirm_password:
        return _profile(
            viewer, failed=("password", "The new passwords do not match."), status=400
        )
    # Each try checks a password: the same per-address budget as signing in.
    wait = await over_limit(services, peer, "login")
    if wait is not None:
        return retry_after(
            _profile(viewer, failed=("password", TOO_MANY), status=429), wait
        )
    try:
        confirmed = await services.confirm_password(viewer.user, current_password, peer)
        new_hash = await users.hash_password(
            services.hasher,
            new_password,
            username=confirmed.user.username,
            min_length=services.settings.password_min_length,
        )
        async with services.db.transaction() as tx:
            await account.change_password(
                tx,
                confirmed,
                new_hash,
                session_id=viewer.principal.session_id,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
                notify=services.notices,
            )
    except RateLimited as exc:
        return retry_after(
            _profile(viewer, failed=("password", exc.description), status=429),
            exc.retry_after,
        )
    except AuthgateError as exc:
        return _profile(viewer, failed=("password", exc.description), status=exc.status)
    return RedirectResponse(f"{paths.SETTINGS_PROFILE}?done=password", status_code=303)


@router.post(f"{paths.SETTINGS_PROFILE}/delete", response_model=None)
async def delete_account(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    # Each try checks a password: the same per-address budget as signing in.
    wait = await over_limit(services, peer, "login")
    if wait is not None:
        return retry_after(
            _profile(viewer, failed=("delete", TOO_MANY), status=429), wait
        )
    try:
        await delete_own(services, viewer.user, password, peer=peer)
    except RateLimited as exc:
        return retry_after(
            _profile(viewer, failed=("delete", exc.description), status=429),
            exc.retry_after,
        )
    except AuthgateError as exc:
        return _profile(viewer, failed=("delete", exc.description), status=exc.status)
    response = RedirectResponse(paths.LOGIN, status_code=303)
    session_cookies.clear(response, services.settings)
    return response
