"""Upstream sign-in in the browser: ``GET /login/provider`` (the "Sign in
with …" button on ``/login``) sends the browser to the provider, and
``GET /auth/callback`` brings it back signed in, with the same session and
cookies as a password sign-in, to the ``next`` path it started from. Also
``POST /login/dev``, the dev-login button's form (loopback only).

The callback checks, in this order, and refuses with a page (audited with
the provider's name) at the first that fails: the sealed state cookie opens
and has not expired; the ``state`` parameter is the sealed one; the state was
not used before (recorded, and committed, before the code is exchanged); the
provider reported no error; the provider's answer holds (ID token checks,
see ``upstream.oidc``); the account rules (``domain.identities``) allow it.
"""

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from authgate import upstream
from authgate.domain import factors, identities, replay
from authgate.domain.context import Peer
from authgate.errors import NotFound, SignInRefused
from authgate.server import signin
from authgate.server.services import Services
from authgate.upstream import dev_login
from authgate.upstream.base import Flow, UpstreamError
from authgate.upstream.state import (
    COOKIE,
    COOKIE_PATH,
    LIFETIME,
    LoginState,
    check_state,
    open_sealed,
    seal,
)
from authgate.util import clock
from authgate.web import paths, session_cookies
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages import preauth, second_step
from authgate.web.paths import safe_next
from authgate.web.render import error_page, page
from authgate.web.security import delete_cookie, read_cookie, set_cookie

router = APIRouter(tags=["pages"], include_in_schema=False)
dev_router = APIRouter(tags=["pages"], include_in_schema=False)

STATE_KEY_PURPOSE = "upstream-state"
#: An error code a provider may put in the callback URL, shown to the person
#: only when it looks like one (RFC 6749 §4.1.2.1 error codes are ASCII words).
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
_STATUS = {"provider_unreachable": 502}
_NOT_CONFIGURED = "Sign-in through an identity provider is not set up on this server."


def login_choices(services: Services, next_url: str) -> dict[str, Any]:
    """What ``/login`` offers besides the password form: the provider's
    button and the dev-login form (``auth/login.html`` renders them)."""
    provider = services.upstream
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return {
        "provider_label": provider.label if provider else None,
        "provider_url": f"{paths.LOGIN_PROVIDER}{query}" if provider else None,
        "dev_login": dev_login.available(services.settings),
    }


@router.get(paths.LOGIN_PROVIDER, response_model=None)
async def start(
    services: ServicesDep,
    next: str | None = None,
    invite: str | None = None,
) -> Response:
    provider = services.upstream
    if provider is None:
        return error_page(_NOT_CONFIGURED, status=404)
    settings = services.settings
    flow = Flow.new(upstream.redirect_uri(settings))
    try:
        url = await provider.authorization_url(flow)
    except UpstreamError as exc:
        return error_page(exc.description, status=_STATUS.get(exc.reason, 400))
    state = LoginState(
        provider=provider.name,
        flow=flow,
        next=safe_next(next) or paths.HOME,
        invite=invite.strip()[:256] if invite and invite.strip() else None,
        issued_at=clock.now(),
    )
    response = RedirectResponse(url, status_code=303)
    set_cookie(
        response,
        settings,
        COOKIE,
        seal(services.derived_key(STATE_KEY_PURPOSE), state),
        max_age=int(LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        # Lax: the provider's redirect back is a top-level cross-site GET.
        samesite="lax",
    )
    return response


@router.get(upstream.CALLBACK_PATH, response_model=None)
async def callback(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    provider = services.upstream
    if provider is None:
        return error_page(_NOT_CONFIGURED, status=404)
    name = provider.name
    try:
        login = open_sealed(
            services.derived_keys(STATE_KEY_PURPOSE),
            read_cookie(request, services.settings, COOKIE),
            now=clock.now(),
        )
        if login.provider != name:
            raise UpstreamError(
                "state_invalid",
                "This sign-in was started with another identity provider. Start "
                "again from the sign-in page.",
            )
        check_state(login, state)
    except UpstreamError as exc:
        return await _refused(services, peer, name, exc.reason, exc.description)

    # Single use, committed before the code is exchanged: a replayed cookie and
    # callback URL are refused here, whatever the provider would say.
    async with services.db.transaction() as tx:
        first_use = await replay.use_once(
            tx, f"upstream-state:{login.flow.state}", login.expires_at
        )
    if not first_use:
        return await _refused(
            services,
            peer,
            name,
            "state_replayed",
            "This sign-in link was already used. Start again from the sign-in page.",
        )
    if error or not code:
        shown = error if error and _ERROR_CODE.match(error) else "no code"
        cancelled = error == "access_denied"
        return await _refused(
            services,
            peer,
            name,
            "provider_error" if error else "code_missing",
            f"The sign-in was cancelled at {provider.label}."
            if cancelled
            else f"{provider.label} did not complete the sign-in ({shown}).",
        )
    try:
        identity = await provider.identity(code, login.flow, peer)
    except UpstreamError as exc:
        return await _refused(services, peer, name, exc.reason, exc.description)

    try:
        opened = await signin.with_identity(
            services, peer, identity, invite_code=login.invite, method=name
        )
    except SignInRefused as exc:
        return await _refused(
            services,
            peer,
            name,
            exc.reason,
            exc.description,
            email=identity.email,
            subject=identity.subject,
        )
    if isinstance(opened, factors.SecondStep):
        # The provider did not do MFA and the account has a factor here.
        response = await second_step.form(
            request,
            services,
            opened,
            next_url=login.next,
        )
    else:
        response = RedirectResponse(login.next, status_code=303)
        session_cookies.send(response, services, opened)
    _clear_state(response, services)
    return response


@dev_router.post(paths.LOGIN_DEV, response_model=None)
async def dev_login_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    username: Annotated[str, Form(max_length=256)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=256)] = "",
    next_: Annotated[str, Form(alias="next", max_length=4096)] = "",
) -> Response:
    """The dev-login button on ``/login``: the API's dev login, for a form
    (the page runs no script, so it cannot post JSON)."""
    settings = services.settings
    if not dev_login.allows(settings, peer.ip, request.headers):
        raise NotFound("Not found.")
    refused = preauth.refusal(request, services, csrf_token_)
    if refused is not None:
        return refused
    try:
        opened = await signin.as_developer(services, peer, username)
    except SignInRefused as exc:
        return error_page(exc.description, status=403)
    response = RedirectResponse(safe_next(next_) or paths.HOME, status_code=303)
    session_cookies.send(response, services, opened)
    return response


async def _refused(
    services: Services,
    peer: Peer,
    provider: str,
    reason: str,
    description: str,
    *,
    email: str | None = None,
    subject: str | None = None,
) -> Response:
    async with services.db.transaction() as tx:
        await identities.record_refusal(
            tx, provider, reason, peer, email=email, subject=subject
        )
    response = page(
        "auth/refused.html",
        status=_STATUS.get(reason, 403),
        message=description,
        reason=reason,
    )
    _clear_state(response, services)
    return response


def _clear_state(response: Response, services: Services) -> None:
    delete_cookie(response, services.settings, COOKIE, path=COOKIE_PATH)
