"""``/openapi.json`` as the server really answers, for validators, client
generators and ``/docs``'s Authorize button.

FastAPI's description is right about paths, bodies and successes, and wrong
about failures: it promises ``422 HTTPValidationError`` wherever input is
validated, while ``web/errors.py`` answers ``400 {"error",
"error_description"}``, and it knows nothing of the credentials the guard
reads. So the description is FastAPI's, then, once per app:

- every ``422`` becomes the ``400`` the server sends, in the one ``Error``
  shape, as does every refusal a route declares with ``schemas.failures``; a
  body may be too large (``413``);
- a route whose dependencies need a caller (``deps.get_caller``) answers
  ``401`` and ``403`` and lists the credentials that open it; one limited by
  ``deps.RateLimit`` answers ``429``; the back office's key answers ``401``;
- ``components.securitySchemes`` names each credential as this server
  accepts it, the OAuth flows at this server's own URLs.

What a route answers beyond these, it declares itself (``responses=``).
``tests/support/documented_statuses.py`` holds the description to what the
API tests see.
"""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from authgate.config import Settings
from authgate.domain.clients import ADMIN_SCOPE, SUPPORTED_SCOPES
from authgate.oauth import server as endpoints
from authgate.web.backoffice import require_backoffice_key
from authgate.web.deps import RateLimit, get_caller
from authgate.web.schemas import FAILURES, Error
from authgate.web.security import SESSION_COOKIE, cookie_name

#: The ``security`` of an OAuth endpoint a client authenticates to (RFC 6749
#: §2.3.1: HTTP Basic, or ``client_id``/``client_secret`` in the form).
CLIENT_AUTHENTICATION: list[dict[str, list[str]]] = [{"client": []}, {}]

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_SCOPE_MEANINGS = {
    "read": "Read what the person may read.",
    "write": "Change what the person may change.",
    "admin": "Administer the instance (an administrator's own clients only).",
    "openid": "Sign in with OpenID Connect: an ID token.",
    "profile": "The person's name in the ID token and at userinfo.",
    "email": "The person's email address in the ID token and at userinfo.",
}


def install(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(app: FastAPI, settings: Settings) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    models.pop("HTTPValidationError", None)
    models.pop("ValidationError", None)
    models["Error"] = Error.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components["securitySchemes"] = security_schemes(settings)
    credentials = _credentials(settings)
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        calls = set(_calls(route.dependant))
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            _describe_refusals(operation, calls, credentials)
    return schema


def _describe_refusals(
    operation: dict[str, Any],
    calls: set[Any],
    credentials: list[dict[str, list[str]]],
) -> None:
    responses: dict[str, Any] = operation["responses"]
    if responses.pop("422", None) is not None:
        _refuse(responses, 400)
    if "requestBody" in operation:
        _refuse(responses, 413)
    if get_caller in calls:
        operation.setdefault("security", credentials)
        _refuse(responses, 401)
        _refuse(responses, 403)
    if require_backoffice_key in calls:
        operation.setdefault("security", [{"backOfficeKey": []}])
        _refuse(responses, 401)
    if any(isinstance(call, RateLimit) for call in calls):
        _refuse(responses, 429)


def _refuse(responses: dict[str, Any], status: int) -> None:
    responses.setdefault(
        str(status),
        {
            "description": FAILURES[status],
            "content": {"application/json": {"schema": _ERROR_REF}},
        },
    )


def _calls(dependant: Dependant) -> Iterator[Any]:
    """Every dependency a route solves, however deep."""
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _credentials(settings: Settings) -> list[dict[str, list[str]]]:
    """Any one of these opens a route that needs a caller."""
    found: list[dict[str, list[str]]] = [
        {"bearer": []},
        {"apiKey": []},
        {"oauth2": []},
        {"session": []},
    ]
    if settings.allow_query_api_keys:
        found.append({"apiKeyQuery": []})
    return found


def security_schemes(settings: Settings) -> dict[str, Any]:
    base = settings.issuer
    scopes = {
        scope: _SCOPE_MEANINGS.get(scope, scope)
        for scope in (*SUPPORTED_SCOPES, ADMIN_SCOPE)
    }
    schemes: dict[str, Any] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT or personal access token",
            "description": "An access token from `/api/v1/auth/login` or "
            "`/oauth/token`, or a personal access token (`ag_pat_…`). An API "
            "key is accepted here too.",
        },
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key (`ag_key_…`), read-only or read-write.",
        },
        "oauth2": {
            "type": "oauth2",
            "description": "OAuth 2.1 with PKCE (S256); every endpoint is "
            "listed at `/.well-known/oauth-authorization-server`.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": base + endpoints.AUTHORIZE,
                    "tokenUrl": base + endpoints.TOKEN,
                    "refreshUrl": base + endpoints.TOKEN,
                    "scopes": scopes,
                },
                "clientCredentials": {
                    "tokenUrl": base + endpoints.TOKEN,
                    "scopes": scopes,
                },
            },
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": cookie_name(settings, SESSION_COOKIE),
            "description": "A browser's session; a change also needs the "
            "`X-CSRF-Token` header the sign-in answered.",
        },
        "client": {
            "type": "http",
            "scheme": "basic",
            "description": "An OAuth client's id and secret "
            "(`client_secret_basic`); `client_secret_post` works too.",
        },
        "backOfficeKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "`AUTHGATE_BACKOFFICE_API_KEY`, for `/bo` only.",
        },
    }
    if settings.allow_query_api_keys:
        schemes["apiKeyQuery"] = {
            "type": "apiKey",
            "in": "query",
            "name": "api_key",
            "description": "An API key in the query (`AUTHGATE_ALLOW_QUERY_API_KEYS`).",
        }
    return schemes
