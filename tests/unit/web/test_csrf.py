"""CSRF tokens across a secret rotation: the ``ag_csrf`` cookie a session got
before the rotation is an HMAC under the previous secret's key, and keeps
passing while that key is among those checked."""

import pytest
from fastapi import Request

from authgate.config import Settings
from authgate.errors import Forbidden
from authgate.web.security import CSRF_HEADER, SESSION_COOKIE, check_csrf, csrf_token

OLD, NEW = b"o" * 32, b"n" * 32
SETTINGS = Settings(_env_file=None, secret_key="s" * 32)


def post(token: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/me",
            "headers": [
                (b"origin", SETTINGS.issuer.encode()),
                (b"cookie", f"{SESSION_COOKIE}=ses".encode()),
                (CSRF_HEADER.encode(), token.encode()),
            ],
        }
    )


def test_a_token_under_the_previous_key_passes_while_it_is_kept() -> None:
    before = csrf_token(OLD, "ses")
    check_csrf(post(before), (NEW, OLD), SETTINGS)
    check_csrf(post(csrf_token(NEW, "ses")), (NEW, OLD), SETTINGS)
    with pytest.raises(Forbidden):
        check_csrf(post(before), (NEW,), SETTINGS)
    with pytest.raises(Forbidden):
        check_csrf(post(csrf_token(NEW, "another session")), (NEW, OLD), SETTINGS)
