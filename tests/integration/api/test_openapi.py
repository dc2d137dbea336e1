"""``/openapi.json``: a valid OpenAPI document, built without a warning from
FastAPI, that says what the server answers (the statuses the API tests see
are held to it by ``tests/support/documented_statuses.py``)."""

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from openapi_spec_validator import validate

from tests.conftest import MakeSettings
from tests.support.actions import Actions
from tests.support.live import LiveServer

BACKOFFICE_KEY = "bo-key-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture
def full(start_server: Callable[..., LiveServer]) -> LiveServer:
    """A server with every optional router mounted, so each is described."""
    return start_server(backoffice_api_key=BACKOFFICE_KEY, dev_login_enabled=True)


@pytest.fixture
def spec(full: LiveServer) -> dict[str, Any]:
    with full.client() as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def test_the_description_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_fastapi_builds_it_without_a_warning(
    make_settings: MakeSettings,
) -> None:
    """A duplicate operation id, for one, is only a warning from FastAPI."""
    from authgate.app import create_app

    app = create_app(
        make_settings(backoffice_api_key=BACKOFFICE_KEY, dev_login_enabled=True)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = app.openapi()
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(ids) == len(set(ids))


def test_every_refusal_is_the_error_shape_the_server_sends(
    spec: dict[str, Any],
) -> None:
    """Validation failures answer 400, not FastAPI's 422; every 4xx has
    ``error`` and ``error_description`` (an MFA challenge adds fields)."""
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Error"]["required"]) == {"error", "error_description"}
    for method, path, operation in _operations(spec):
        assert "422" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            schema = response["content"]["application/json"]["schema"]
            for option in schema.get("anyOf", [schema]):
                fields = _resolve(spec, option)["properties"]
                assert {"error", "error_description"} <= set(fields), (
                    method,
                    path,
                    status,
                )


def test_routes_that_validate_input_document_400(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/api/v1/access-tokens"]["post"]["responses"]
    assert create["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_routes_needing_a_caller_document_401_403_and_the_credentials(
    spec: dict[str, Any],
) -> None:
    me = spec["paths"]["/api/v1/me"]["get"]
    assert {"401", "403"} <= set(me["responses"])
    assert {"bearer": []} in me["security"]
    assert {"apiKey": []} in me["security"]
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert "security" not in login
    assert "429" in login["responses"]


def test_security_schemes_name_this_server(
    spec: dict[str, Any], full: LiveServer
) -> None:
    """``/docs`` gets an Authorize button, and the OAuth flow points here."""
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT or personal access token",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    flow = schemes["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{full.url}/oauth/authorize"
    assert flow["tokenUrl"] == f"{full.url}/oauth/token"
    assert {"read", "write", "openid"} <= set(flow["scopes"])
    assert spec["paths"]["/bo/stats"]["get"]["security"] == [{"backOfficeKey": []}]
    assert "apiKeyQuery" not in schemes


def test_the_query_api_key_is_described_only_where_accepted(
    start_server: Callable[..., LiveServer],
) -> None:
    with start_server(allow_query_api_keys=True).client() as http:
        spec = http.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["apiKeyQuery"]
    assert (scheme["in"], scheme["name"]) == ("query", "api_key")
    assert {"apiKeyQuery": []} in spec["paths"]["/api/v1/me"]["get"]["security"]


def test_the_described_credentials_open_the_api(
    client: httpx.Client, actions: Actions
) -> None:
    """What the schemes say is how the server reads them."""
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    key = actions.make_key(actions.user())["token"]
    pat = actions.make_pat(actions.user())["token"]
    header = schemes["apiKey"]["name"]
    assert client.get("/api/v1/me", headers={header: key}).status_code == 200
    assert client.get("/api/v1/me", headers=actions.bearer(pat)).status_code == 200
    client.cookies.clear()  # the sign-ins' session cookies
    assert client.get("/api/v1/me").status_code == 401


def test_client_registration_is_documented_as_201(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/oauth/register"]["post"]["responses"]
    assert "201" in responses
    assert "200" not in responses


def test_schema_names_are_clean(spec: dict[str, Any]) -> None:
    """No ``authgate__web__api__v1__auth__TokenOut``: each model's own name."""
    for name in spec["components"]["schemas"]:
        assert "__" not in name, name
        assert not name.startswith("authgate"), name


def test_every_operation_has_a_written_summary(full: LiveServer) -> None:
    app: FastAPI = full.app
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            assert route.summary, route.path
            assert route.summary != route.name.replace("_", " ").title(), route.path


def test_request_bodies_show_snake_case_and_name_the_camel_case_alias(
    spec: dict[str, Any],
) -> None:
    body = spec["components"]["schemas"]["AccessTokenIn"]
    assert "expires_in_days" in body["required"]
    assert "expiresInDays" not in body["properties"]
    assert "`expiresInDays`" in body["properties"]["expires_in_days"]["description"]
