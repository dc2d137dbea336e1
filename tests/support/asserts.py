"""Assertions the API suites share."""

from typing import Any, TypeVar

import httpx


def error(response: httpx.Response, status: int, code: str | None = None) -> Any:
    """Assert the documented error shape: the status, a JSON body with exactly
    ``error`` and ``error_description``, and no sign of a stack trace. Returns
    the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert isinstance(body["error"], str)
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    if code is not None:
        assert body["error"] == code, body
    for leak in ("Traceback", 'File "', ".py", "/src/", "site-packages"):
        assert leak not in response.text, response.text
    return body


T = TypeVar("T")


def present(value: T | None) -> T:
    """``value``, which a lookup must have found: narrows ``X | None`` for the
    type checker, and a ``None`` fails here rather than as an AttributeError
    further on."""
    assert value is not None
    return value
