"""Every failure renders as ``{"error", "error_description"}`` with the right
status, and nothing else: no stack trace, no echo of the input that failed."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from authgate.errors import AuthgateError

log = logging.getLogger("authgate")

_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "temporarily_unavailable",
}


def error_response(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers=headers,
    )


def _describe(errors: list[Any]) -> str:
    first = errors[0] if errors else {}
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    location = [
        str(p)
        for p in first.get("loc", ())
        if p not in ("body", "query", "path", "header")
    ]
    field = ".".join(location)
    message = str(first.get("msg", "is not valid"))
    if kind == "missing":
        return (
            f"The field '{field}' is required."
            if field
            else "A request body is required."
        )
    if kind in ("model_attributes_type", "dict_type") and not field:
        return "The request body must be a JSON object."
    return f"The field '{field}' is not valid: {message}." if field else f"{message}."


async def _authgate_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AuthgateError):  # registered for it alone
        raise exc
    return error_response(exc.status, exc.code, exc.description, exc.headers or None)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for it alone
        raise exc
    return error_response(400, "invalid_request", _describe(list(exc.errors())))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # registered for it alone
        raise exc
    if isinstance(exc.detail, dict) and "error" in exc.detail:
        return JSONResponse(
            exc.detail, status_code=exc.status_code, headers=exc.headers
        )
    code = _CODES.get(exc.status_code, "error")
    description = "Not found." if exc.status_code == 404 else str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, description, headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(
        500, "server_error", "The server could not complete the request."
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AuthgateError, _authgate_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
