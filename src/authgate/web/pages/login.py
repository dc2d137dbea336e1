"""``/login``: the sign-in page.

The form posts back here; the password is checked by the API's own sign-in
(``server.signin.with_password``: lockout, audit, constant-time refusals),
and the session travels in the same cookies (``web.session_cookies``).

The form's CSRF token is bound to a pre-session cookie (``preauth``). ``next``
is followed only when it is a path on this site. The page links to
``/register`` and ``/forgot``.
"""

import json
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import factors, passkeys
from authgate.errors import InvalidRequest
from authgate.server import passkeys as webauthn
from authgate.server import signin
from authgate.server.services import Services
from authgate.web import paths, session_cookies
from authgate.web.browser import signed_in
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import preauth, second_step, upstream
from authgate.web.pages.viewer import Viewer, current_viewer, viewer_page
from authgate.web.paths import safe_next
from authgate.web.render import origin_of

router = APIRouter(tags=["pages"], include_in_schema=False)


async def _form(
    services: Services,
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    # Signing in on the way to a client that already has consent ends in a
    # redirect to that client, which the browser holds to this page's CSP.
    redirect_uri = await signin.continues_to(services, next_url)
    client_origin = origin_of(redirect_uri) if redirect_uri else None
    # Every sign-in form carries a fresh challenge for "Sign in with a
    # passkey" (sealed, nothing stored: a page view costs no write).
    rp = webauthn.relying_party(services)
    ceremony = passkeys.begin_sign_in(webauthn.sealer(services), rp) if rp else None
    return preauth.form_page(
        request,
        services,
        "auth/login.html",
        path=paths.LOGIN,
        status=status,
        scripts=ceremony is not None,
        form_targets=[client_origin] if client_origin else [],
        next=next_url,
        username=username,
        error=error,
        signed_in_as=None,
        passkey_options=json.dumps(ceremony.options) if ceremony else None,
        passkey_ticket=ceremony.ticket if ceremony else None,
        **upstream.login_choices(services, next_url),
    )


@router.get(paths.LOGIN, response_model=None)
async def login_page(
    request: Request,
    services: ServicesDep,
    next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
) -> Response:
    target = safe_next(next_)
    if signed_in(request) is not None:
        if target:
            return RedirectResponse(target, status_code=303)
        viewer = await current_viewer(request, services)
        if isinstance(viewer, Viewer):
            return viewer_page(
                viewer,
                "auth/login.html",
                signed_in_as=viewer.user.username,
                csrf_token="",
                next="",
                username="",
                error=None,
                passkey_options=None,
            )
    return await _form(services, request, next_url=target or "")


@router.post(paths.LOGIN, response_model=None)
async def login_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=256)] = "",
    next_: Annotated[str, Form(alias="next", max_length=4096)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token_)
    if refused is not None:
        return refused
    target = safe_next(next_) or paths.HOME
    # The same per-IP bucket as the API's login: one budget per address.
    wait = await over_limit(services, peer, "login")
    if wait is not None:
        return retry_after(
            await _form(
                services,
                request,
                next_url=safe_next(next_) or "",
                username=username,
                error=TOO_MANY,
                status=429,
            ),
            wait,
        )
    opened = await signin.with_password(services, peer, username, password)
    if opened is None:
        return await _form(
            services,
            request,
            next_url=safe_next(next_) or "",
            username=username,
            error="Invalid username or password.",
            status=401,
        )
    if isinstance(opened, factors.SecondStep):
        return await second_step.form(
            request,
            services,
            opened,
            next_url=safe_next(next_) or "",
        )
    response = RedirectResponse(target, status_code=303)
    session_cookies.send(response, services, opened)
    preauth.forget(response, services, path=paths.LOGIN)
    return response


@router.post(paths.LOGIN_PASSKEY, response_model=None)
async def passkey_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    ticket: Annotated[str, Form(max_length=2048)] = "",
    credential: Annotated[str, Form(max_length=65536)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=256)] = "",
    next_: Annotated[str, Form(alias="next", max_length=4096)] = "",
) -> Response:
    """The assertion ``passkeys.js`` posts: the account is the passkey's."""
    refused = preauth.refusal(request, services, csrf_token_)
    if refused is not None:
        return refused
    next_url = safe_next(next_) or ""
    wait = await over_limit(services, peer, "login")
    if wait is not None:
        return retry_after(
            await _form(
                services, request, next_url=next_url, error=TOO_MANY, status=429
            ),
            wait,
        )
    try:
        opened = await signin.with_passkey(
            services,
            peer,
            ticket=ticket,
            credential=passkeys.parse_credential(credential),
        )
    except InvalidRequest as exc:
        return await _form(
            services, request, next_url=next_url, error=exc.description, status=400
        )
    if opened is None:
        return await _form(
            services,
            request,
            next_url=next_url,
            error=passkeys.NOT_RECOGNISED,
            status=401,
        )
    response = RedirectResponse(next_url or paths.HOME, status_code=303)
    session_cookies.send(response, services, opened)
    preauth.forget(response, services, path=paths.LOGIN)
    return response
