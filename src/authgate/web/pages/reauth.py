"""``/reauth``: confirming who you are again, in the session you have.

A sensitive action on a session older than ``AUTHGATE_STEP_UP_MAX_AGE``
(RFC 9470 step-up), and an authorization request that asks for a fresh
sign-in (``prompt=login``, ``max_age``) or a stronger one (``acr_values``),
come here with ``next``, the page to go back to. The password is checked by
the sign-in's own steps (``server.signin.confirm_password``: lockout, audit,
the login rate limit), then the session records the new authentication and
the browser goes on to ``next``, a path on this site only. The upstream
provider's button is offered too (a sign-in there opens a fresh session).
Signed out, the person signs in instead, which is as fresh as it gets.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import assurance, factors
from authgate.server import signin
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.browser import login_redirect, signed_in
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import second_step, upstream
from authgate.web.pages.viewer import (
    FormViewer,
    PageRoute,
    Viewer,
    current_viewer,
    viewer_page,
)
from authgate.web.paths import safe_next
from authgate.web.render import origin_of

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

NextQuery = Annotated[str | None, Query(alias="next", max_length=4096)]
LevelQuery = Annotated[str | None, Query(alias="acr", max_length=16)]
REASON = "For your security, enter your password again to continue."
WRONG = "That password is not right."


async def _form(
    services: Services,
    viewer: Viewer,
    *,
    next_url: str,
    level: str | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    # Going on to a client that already has consent ends in a redirect to it,
    # which the browser holds to this page's CSP (as on /login).
    redirect_uri = await signin.continues_to(services, next_url)
    client_origin = origin_of(redirect_uri) if redirect_uri else None
    # Someone who signs in through the upstream provider may have no password
    # here: signing in there again is as fresh.
    choices = upstream.login_choices(services, next_url)
    return viewer_page(
        viewer,
        "auth/reauth.html",
        status=status,
        form_targets=[client_origin] if client_origin else [],
        reason=REASON,
        next=next_url,
        acr=level if level in assurance.LEVELS else None,
        error=error,
        provider_url=choices["provider_url"],
        provider_label=choices["provider_label"],
    )


@router.get(paths.REAUTH, response_model=None)
async def reauth_page(
    request: Request,
    services: ServicesDep,
    next_: NextQuery = None,
    level: LevelQuery = None,
) -> Response:
    target = safe_next(next_) or paths.HOME
    principal = signed_in(request)
    if principal is not None and principal.session_id is None:
        # Single-user mode: there is no sign-in to renew.
        return RedirectResponse(target, status_code=303)
    viewer = await current_viewer(request, services)
    if not isinstance(viewer, Viewer):
        # Signed out: signing in is the fresh authentication (and straight on
        # to ``next``, not back here to type the password twice).
        return login_redirect(request, target)
    return await _form(services, viewer, next_url=target, level=level)


@router.post(paths.REAUTH, response_model=None)
async def reauth_submit(
    request: Request,
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    next_: Annotated[str, Form(alias="next", max_length=4096)] = "",
    level: Annotated[str, Form(alias="acr", max_length=16)] = "",
) -> Response:
    target = safe_next(next_) or paths.HOME
    session_id = viewer.principal.session_id
    if session_id is None:
        return RedirectResponse(target, status_code=303)
    # The same per-address bucket as the sign-in's: one budget per address.
    wait = await over_limit(services, peer, "login")
    if wait is not None:
        return retry_after(
            await _form(
                services,
                viewer,
                next_url=target,
                level=level,
                error=TOO_MANY,
                status=429,
            ),
            wait,
        )
    confirmed = await signin.confirm_password(services, peer, session_id, password)
    if isinstance(confirmed, factors.SecondStep):
        return await second_step.form(request, services, confirmed, next_url=target)
    if not confirmed:
        return await _form(
            services, viewer, next_url=target, level=level, error=WRONG, status=401
        )
    return RedirectResponse(target, status_code=303)
