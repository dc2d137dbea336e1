"""How a browser session travels: the cookies a sign-in sets and a sign-out
clears, for the API and the pages alike.

This is the transport half of fastapi-users' transport/strategy split; the
strategy, opening the session and minting its tokens, is ``server.signin``.
Every sign-in sets the same three cookies: the session (``HttpOnly``), the
CSRF token (readable by the page's script, which sends it back as
``X-CSRF-Token``) and the refresh token (``SameSite=Strict``, sent only to
the API's ``/auth`` routes that take it).
"""

from fastapi import Response

from authgate.config import Settings
from authgate.server.services import Services
from authgate.server.signin import Opened
from authgate.web.security import (
    REFRESH_COOKIE,
    SESSION_COOKIE,
    csrf_token,
    delete_cookie,
    set_cookie,
)

CSRF_COOKIE = "ag_csrf"
#: The refresh cookie goes only where a refresh or a sign-out reads it.
REFRESH_PATH = "/api/v1/auth"


def send(response: Response, services: Services, opened: Opened) -> str:
    """Set the cookies of the session just opened; returns its CSRF token (an
    HMAC of the session token), which the API also puts in its answer."""
    settings = services.settings
    csrf = csrf_token(services.derived_key("csrf"), opened.started.token)
    max_age = int(settings.session_max_lifetime.total_seconds())
    set_cookie(
        response,
        settings,
        SESSION_COOKIE,
        opened.started.token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
    )
    set_cookie(
        response,
        settings,
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="lax",
    )
    send_refresh(response, settings, opened.refresh_token)
    return csrf


def send_refresh(response: Response, settings: Settings, refresh_token: str) -> None:
    set_cookie(
        response,
        settings,
        REFRESH_COOKIE,
        refresh_token,
        max_age=int(settings.refresh_token_expiry.total_seconds()),
        httponly=True,
        samesite="strict",
        path=REFRESH_PATH,
    )


def clear(response: Response, settings: Settings) -> None:
    for name, path in (
        (SESSION_COOKIE, "/"),
        (CSRF_COOKIE, "/"),
        (REFRESH_COOKIE, REFRESH_PATH),
    ):
        delete_cookie(response, settings, name, path=path)
