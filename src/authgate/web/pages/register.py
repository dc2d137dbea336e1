"""``/register``: create a local account in the browser.

The first person creates the administrator account with no code; later people
bring an invite code (an instance invite from an administrator, or, where
``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS`` allows it, an organization's invite,
which also joins them to it) unless registration is open
(``AUTHGATE_ALLOW_REGISTRATION``). The rules are the API's
(``server.signup``), allowlist included; the new account is signed in at
once, with the same session as a password sign-in.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import assurance
from authgate.errors import AuthgateError
from authgate.server import signin
from authgate.server.services import Services
from authgate.server.signup import register_account
from authgate.web import paths, session_cookies
from authgate.web.browser import signed_in
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import preauth

router = APIRouter(tags=["pages"], include_in_schema=False)


async def _form(
    request: Request,
    services: Services,
    *,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with services.db.read() as tx:
        first = await tx.users.count() == 0
    settings = services.settings
    return preauth.form_page(
        request,
        services,
        "auth/register.html",
        path=paths.REGISTER,
        status=status,
        first=first,
        invite_needed=not first and not settings.allow_registration,
        email_needed=not services.allowlist.open,
        min_length=settings.password_min_length,
        values=values,
        error=error,
    )


@router.get(paths.REGISTER, response_model=None)
async def register_page(
    request: Request,
    services: ServicesDep,
    invite: Annotated[str, Query(max_length=256)] = "",
    proof: Annotated[str, Query(max_length=1024)] = "",
) -> Response:
    if signed_in(request) is not None:
        return RedirectResponse(paths.WELCOME, status_code=303)
    values = {"username": "", "email": "", "invite_code": invite, "invite_proof": proof}
    return await _form(request, services, values=values)


@router.post(paths.REGISTER, response_model=None)
async def register_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    username: Annotated[str, Form(max_length=256)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    invite_code: Annotated[str, Form(max_length=256)] = "",
    invite_proof: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token)
    if refused is not None:
        return refused
    values = {
        "username": username,
        "email": email,
        "invite_code": invite_code,
        "invite_proof": invite_proof,
    }
    wait = await over_limit(services, peer, "register")
    if wait is not None:
        return retry_after(
            await _form(
                request,
                services,
                values=values,
                error=TOO_MANY,
                status=429,
            ),
            wait,
        )
    try:
        user = await register_account(
            services,
            peer,
            username=username,
            password=password,
            email=email.strip() or None,
            invite_code=invite_code.strip() or None,
            invite_proof=invite_proof or None,
        )
    except AuthgateError as exc:
        return await _form(
            request, services, values=values, error=exc.description, status=exc.status
        )
    async with services.db.transaction() as tx:
        opened = await signin.open_session(
            tx, services, user.id, peer, amr=(assurance.PWD,)
        )
    response = RedirectResponse(paths.WELCOME, status_code=303)
    session_cookies.send(response, services, opened)
    preauth.forget(response, services, path=paths.REGISTER)
    return response
