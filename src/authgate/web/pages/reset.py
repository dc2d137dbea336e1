"""``/reset?token=…``: the page a password reset link opens.

Opening the link changes nothing: mail scanners and link previews fetch
links before the person does, and would use the single-use token up. The
page asks for the new password; its form (CSRF-protected like the other
pages used before a sign-in, ``web.pages.preauth``) sets it
(``server.password_reset.reset``), which uses the link only if the password
is accepted.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from authgate.domain import email_tokens, password_reset
from authgate.errors import AuthgateError, WeakPassword
from authgate.server import password_reset as resetting
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages import preauth
from authgate.web.render import page

router = APIRouter(tags=["pages"], include_in_schema=False)


def _form(
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
        "auth/reset.html",
        path=paths.RESET,
        status=status,
        token=token,
        error=error,
        done=False,
        min_length=services.settings.password_min_length,
    )


def _refused(message: str, status: int = 400) -> Response:
    """A link that cannot work: said plainly, with no form to retry."""
    return page("auth/reset.html", status=status, token="", error=message, done=False)


@router.get(paths.RESET, response_model=None)
async def reset_page(
    request: Request, services: ServicesDep, token: preauth.LinkToken = ""
) -> Response:
    if not email_tokens.well_formed(token):
        return _refused(password_reset.LINK_INVALID)
    return _form(request, services, token)


@router.post(paths.RESET, response_model=None)
async def reset_submit(
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    token: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refused = preauth.refusal(request, services, csrf_token)
    if refused is not None:
        return refused
    wait = await over_limit(services, peer, resetting.BUCKET)
    if wait is not None:
        return retry_after(
            _form(request, services, token, error=TOO_MANY, status=429), wait
        )
    try:
        await resetting.reset(services, token, new_password, peer=peer)
    except WeakPassword as exc:  # the link is still good: try another password
        return _form(request, services, token, error=exc.description, status=400)
    except AuthgateError as exc:
        return _refused(exc.description, exc.status)
    response = page("auth/reset.html", token="", error=None, done=True)
    preauth.forget(response, services, path=paths.RESET)
    return response
