"""``/login/mfa``: the second step of a sign-in, for an account with a
second factor.

``/login`` (a right password) and the upstream callback (a provider that did
not do MFA) answer with this form instead of a session. The mfa ticket
(``domain.factors``) travels in a hidden field, so any instance can finish the
sign-in; the form's CSRF token is the sign-in page's (``web.pages.preauth``),
and wrong codes count towards the account's lockout
(``server.signin.second_step``). Codes need no script; a passkey, when one
is offered, needs the WebAuthn ceremony (``/static/passkeys.js``), which posts
the browser's assertion in the form as the sign-in page's passkey form does.

Where every account must have a factor (``AUTHGATE_REQUIRE_MFA``), the step
of an account without one is an enrolment: the page shows the app to set up
(its QR code and key, carried in the ticket), the app's first code finishes
the sign-in, and the recovery codes that come with it are shown once before
the person carries on to where they were going.
"""

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import factors, passkeys
from authgate.errors import InvalidMfaToken, InvalidRequest
from authgate.server import passkeys as webauthn
from authgate.server import signin
from authgate.server.services import Services
from authgate.web import paths, session_cookies
from authgate.web.browser import signed_in
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import preauth
from authgate.web.paths import safe_next
from authgate.web.render import origin_of, page

router = APIRouter(tags=["pages"], include_in_schema=False)


async def form(
    request: Request,
    services: Services,
    step: factors.SecondStep,
    *,
    next_url: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The second-step form, offering ``step``'s methods, or the app to set
    up when the step is an enrolment."""
    # Finishing on the way to a client that already has consent ends in a
    # redirect to that client, which the browser holds to this page's CSP.
    redirect_uri = await signin.continues_to(services, next_url)
    client_origin = origin_of(redirect_uri) if redirect_uri else None
    return preauth.form_page(
        request,
        services,
        "auth/mfa.html" if step.enrolment is None else "auth/enrol.html",
        path=paths.LOGIN,  # the sign-in page's cookie: sent here too
        status=status,
        scripts=step.webauthn is not None,
        enrolment=step.enrolment,
        form_targets=[client_origin] if client_origin else [],
        mfa_token=step.mfa_token,
        totp=factors.TOTP in step.methods,
        recovery_code=factors.RECOVERY_CODE in step.methods,
        passkey_options=json.dumps(step.webauthn) if step.webauthn else None,
        next=next_url,
        error=error,
        expired=False,
    )


def _expired(request: Request, services: Services, next_url: str) -> Response:
    return preauth.form_page(
        request,
        services,
        "auth/mfa.html",
        path=paths.LOGIN,
        status=InvalidMfaToken.status,
        expired=True,
        passkey_options=None,
        error=InvalidMfaToken.default_description,
        next=next_url,
        login_url=f"{paths.LOGIN}?{urlencode({'next': next_url})}"
        if next_url
        else paths.LOGIN,
    )


@router.get(paths.LOGIN_MFA, response_model=None)
async def second_step_page() -> Response:
    """Reached without a first step (a bookmark, a reload): start there."""
    return RedirectResponse(paths.LOGIN, status_code=303)


@router.post(paths.LOGIN_MFA, response_model=None)
async def second_step_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    mfa_token: Annotated[str, Form(max_length=2048)] = "",
    method: Annotated[str, Form(max_length=32)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    credential: Annotated[str, Form(max_length=65536)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=256)] = "",
    next_: Annotated[str, Form(alias="next", max_length=4096)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token_)
    if refused is not None:
        return refused
    next_url = safe_next(next_) or ""
    pending = factors.open_ticket(services.factor_keys.tickets, mfa_token)
    if pending is None:
        return _expired(request, services, next_url)

    async def again(error: str, status: int) -> Response:
        async with services.db.read() as tx:
            step = await factors.again(
                tx, webauthn.relying_party(services), mfa_token, pending
            )
        return await form(
            request, services, step, next_url=next_url, error=error, status=status
        )

    # The same per-IP bucket as the password: one budget per address.
    wait = await over_limit(services, peer, "login")
    if wait is not None:
        return retry_after(await again(TOO_MANY, 429), wait)
    if method not in factors.METHODS:
        return await again("Enter a code.", 400)
    try:
        proof = (
            passkeys.parse_credential(credential)
            if method == factors.WEBAUTHN
            else code.strip()
        )
    except InvalidRequest as exc:
        return await again(exc.description, 400)
    if not proof:
        return await again("Enter a code.", 400)
    viewer = signed_in(request)
    try:
        done = await signin.second_step(
            services,
            peer,
            mfa_token,
            method,
            proof,
            caller_session=viewer.session_id if viewer else None,
        )
    except InvalidMfaToken:
        return _expired(request, services, next_url)
    except InvalidRequest as exc:  # a wrong code setting an app up
        return await again(exc.description, 400)
    if done is None:
        return await again(signin.refused(method), 401)
    response: Response
    if isinstance(done, signin.Opened) and done.recovery_codes is not None:
        response = page(
            "auth/recovery_codes.html",
            scripts=True,
            codes=done.recovery_codes,
            next=next_url or paths.HOME,
        )
    else:
        response = RedirectResponse(next_url or paths.HOME, status_code=303)
    if isinstance(done, signin.Opened):
        session_cookies.send(response, services, done)
    preauth.forget(response, services, path=paths.LOGIN)
    return response
