"""``/forgot``: reset a forgotten password with a link mailed to the
account's verified address, or with the recovery key saved from Settings →
Security.

"Email me a link" (``server.password_reset.ask``) answers every address with
the same page, so it never tells whether one belongs to an account; the link
leads to ``web.pages.reset``.

The reset is the API's (``auth/recover``, ``domain.recovery``): the key is
used up, every session ends, and an unknown username, a wrong key and a used
key all get the same answer, so the page never tells whether an account
exists. It shares the API's per-IP limit.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from authgate.domain import recovery
from authgate.errors import AuthgateError, RateLimited
from authgate.server import password_reset
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import preauth
from authgate.web.render import page

router = APIRouter(tags=["pages"], include_in_schema=False)


def _form(
    request: Request,
    services: Services,
    *,
    username: str = "",
    email: str = "",
    error: str | None = None,
    email_error: str | None = None,
    status: int = 200,
) -> Response:
    return preauth.form_page(
        request,
        services,
        "auth/forgot.html",
        path=paths.FORGOT,
        status=status,
        done=False,
        sent=None,
        username=username,
        email=email,
        error=error,
        email_error=email_error,
        min_length=services.settings.password_min_length,
    )


@router.get(paths.FORGOT, response_model=None)
async def forgot_page(request: Request, services: ServicesDep) -> Response:
    return _form(request, services)


@router.post(paths.FORGOT, response_model=None)
async def forgot_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    username: Annotated[str, Form(max_length=256)] = "",
    recovery_key: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token)
    if refused is not None:
        return refused
    wait = await over_limit(services, peer, "recover")
    if wait is not None:
        return retry_after(
            _form(
                request,
                services,
                username=username,
                error=TOO_MANY,
                status=429,
            ),
            wait,
        )
    try:
        async with services.db.transaction() as tx:
            done = await recovery.recover(
                tx,
                services.hasher,
                services.mail.sealer,
                username=username,
                key=recovery_key.strip(),
                new_password=new_password,
                min_length=services.settings.password_min_length,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
            )
    except AuthgateError as exc:  # the new password breaks the policy
        return _form(
            request, services, username=username, error=exc.description, status=400
        )
    if not done:
        return _form(
            request, services, username=username, error=recovery.REFUSED, status=400
        )
    response = page("auth/forgot.html", done=True, sent=None)
    preauth.forget(response, services, path=paths.FORGOT)
    return response


@router.post(paths.FORGOT_EMAIL, response_model=None)
async def forgot_email(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token)
    if refused is not None:
        return refused
    wait = await over_limit(services, peer, password_reset.BUCKET)
    try:
        if wait is not None:
            raise RateLimited(TOO_MANY, retry_after=wait)
        await password_reset.ask(services, email, peer=peer)
    except AuthgateError as exc:  # not an address, or asked too often
        response = _form(
            request,
            services,
            email=email,
            email_error=exc.description,
            status=exc.status,
        )
        if isinstance(exc, RateLimited):
            return retry_after(response, exc.retry_after)
        return response
    response = page("auth/forgot.html", done=False, sent=email.strip())
    preauth.forget(response, services, path=paths.FORGOT)
    return response
