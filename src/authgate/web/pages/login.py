"""``/login``: the sign-in page.

The form posts back here; the password is checked by the same steps as the
API's login (``domain.users`` sign-in: lockout, audit, constant-time
refusals), and the session opens with the same ``open_session`` and cookies.

There is no session to bind a CSRF token to yet, so the form's token is an
HMAC of a random pre-session cookie (``ag_login``): a cross-site page can
neither read that cookie nor compute the token (login CSRF, OWASP). ``next``
is followed only when it is a path on this site.
"""

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import users
from authgate.errors import Forbidden
from authgate.web.api.v1.auth import open_session, session_response
from authgate.web.deps import Client, ServicesDep
from authgate.web.pages import upstream
from authgate.web.pages.render import error_page, page, safe_next, signed_in
from authgate.web.security import check_form, csrf_token
from authgate.web.services import Services

router = APIRouter(tags=["pages"], include_in_schema=False)

LOGIN_COOKIE = "ag_login"
LOGIN_COOKIE_AGE = 3600
#: Where a sign-in without ``next`` lands: this page, saying who is signed in.
HOME = "/login"


def _login_key(services: Services) -> bytes:
    return services.derived_key("login-csrf")


def _form(
    services: Services,
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = page(
        "auth/login.html",
        status=status,
        csrf_token=csrf_token(_login_key(services), nonce),
        next=next_url,
        username=username,
        error=error,
        signed_in_as=None,
        **upstream.login_choices(services, next_url),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login", response_model=None)
async def login_page(
    request: Request,
    services: ServicesDep,
    next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
) -> Response:
    target = safe_next(next_)
    principal = signed_in(request)
    if principal is not None:
        if target:
            return RedirectResponse(target, status_code=303)
        user = await services.user(principal.user_id or "")
        return page(
            "auth/login.html",
            signed_in_as=user.username if user else principal.subject,
            csrf_token="",
            next="",
            username="",
            error=None,
        )
    return _form(services, request, next_url=target or "")


@router.post("/login", response_model=None)
async def login_submit(
    request: Request,
    services: ServicesDep,
    client: Client,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token", max_length=256)] = "",
    next_: Annotated[str, Form(alias="next", max_length=4096)] = "",
) -> Response:
    settings = services.settings
    try:
        check_form(
            request,
            _login_key(services),
            settings,
            presented=csrf_token_,
            bound_to=request.cookies.get(LOGIN_COOKIE, ""),
        )
    except Forbidden as exc:
        return error_page(exc.description, status=403)
    target = safe_next(next_) or HOME
    if settings.rate_limit_enabled:
        # The same per-IP bucket as the API's login: one budget per address.
        wait = services.limiter.hit(
            f"login:{client.ip}", settings.login_rate_limit_per_minute
        )
        if wait is not None:
            return _form(
                services,
                request,
                next_url=safe_next(next_) or "",
                username=username,
                error="Too many attempts; try again in a minute.",
                status=429,
            )
    # The same three steps as the API's login (argon2 outside any transaction).
    async with services.db.read() as tx:
        attempt = await users.begin_sign_in(tx, username)
    attempt = await users.check_password(services.hasher, attempt, password)
    async with services.db.transaction() as tx:
        user = await users.finish_sign_in(
            tx, services.lockout_policy, attempt, client=client
        )
        opened = await open_session(tx, services, user.id, client) if user else None
    # Refused after the commit, so the failure count and audit entry are kept.
    if opened is None:
        return _form(
            services,
            request,
            next_url=safe_next(next_) or "",
            username=username,
            error="Invalid username or password.",
            status=401,
        )
    response = RedirectResponse(target, status_code=303)
    session_response(services, opened, response)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response
