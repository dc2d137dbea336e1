"""``/verify-email?token=…``: the page a verification link opens.

Opening the link changes nothing: mail scanners and link previews fetch
links before the person does, and would use the single-use token up. The
page shows a "Confirm" button instead, whose form (CSRF-protected like the
other pages used before a sign-in, ``web.pages.preauth``) verifies the
address (``domain.verification.confirm``). The person need not be signed in:
the link proves they read the mail.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from authgate.domain import email_tokens, verification
from authgate.errors import AuthgateError
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import preauth
from authgate.web.render import page

router = APIRouter(tags=["pages"], include_in_schema=False)


def _confirm_form(
    request: Request,
    services: Services,
    token: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return preauth.form_page(
        request,
        services,
        "auth/verify_email.html",
        path=paths.VERIFY_EMAIL,
        status=status,
        token=token,
        error=error,
        verified=None,
    )


def _refused(message: str, status: int = 400) -> Response:
    """A link that cannot work: said plainly, with no form to retry."""
    return page(
        "auth/verify_email.html",
        status=status,
        token="",
        error=message,
        verified=None,
        csrf_token="",
    )


@router.get(paths.VERIFY_EMAIL, response_model=None)
async def verify_page(
    request: Request, services: ServicesDep, token: preauth.LinkToken = ""
) -> Response:
    if not email_tokens.well_formed(token):
        return _refused(verification.LINK_INVALID)
    return _confirm_form(request, services, token)


@router.post(paths.VERIFY_EMAIL, response_model=None)
async def verify_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    token: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token)
    if refused is not None:
        return refused
    wait = await over_limit(services, peer, "verify-email")
    if wait is not None:
        return retry_after(
            _confirm_form(request, services, token, error=TOO_MANY, status=429), wait
        )
    try:
        async with services.db.transaction() as tx:
            user = await verification.confirm(tx, services.notices, token, peer=peer)
    except AuthgateError as exc:
        return _refused(exc.description, exc.status)
    response = page(
        "auth/verify_email.html",
        token="",
        error=None,
        verified=user.email,
        csrf_token="",
    )
    preauth.forget(response, services, path=paths.VERIFY_EMAIL)
    return response
