"""Discovery: RFC 8414 and OpenID Provider metadata, RFC 9728 protected
resource metadata. Every other suite learns the endpoints from these."""

from collections.abc import Callable
from typing import Any

import httpx

from tests.integration.oauth.conftest import MCP_RESOURCE
from tests.support.live import LiveServer


def test_authorization_server_metadata(
    server: LiveServer, meta: dict[str, Any]
) -> None:
    assert meta["issuer"] == server.url
    for name, path in {
        "authorization_endpoint": "/oauth/authorize",
        "token_endpoint": "/oauth/token",
        "device_authorization_endpoint": "/oauth/device_authorization",
        "registration_endpoint": "/oauth/register",
        "revocation_endpoint": "/oauth/revoke",
        "introspection_endpoint": "/oauth/introspect",
        "userinfo_endpoint": "/oauth/userinfo",
        "jwks_uri": "/oauth/jwks",
    }.items():
        assert meta[name] == server.url + path
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert "none" not in meta["introspection_endpoint_auth_methods_supported"]
    assert {"openid", "read", "write"} <= set(meta["scopes_supported"])
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["client_id_metadata_document_supported"] is True
    assert meta["protected_resources"] == [server.url, MCP_RESOURCE]


def test_openid_configuration(server: LiveServer, meta: dict[str, Any]) -> None:
    oidc = httpx.get(f"{server.url}/.well-known/openid-configuration").json()
    assert oidc["issuer"] == meta["issuer"]
    assert oidc["userinfo_endpoint"] == meta["userinfo_endpoint"]
    assert oidc["subject_types_supported"] == ["public"]


def test_jwks_publishes_both_algorithms(meta: dict[str, Any]) -> None:
    keys = httpx.get(meta["jwks_uri"]).json()["keys"]
    assert {k["alg"] for k in keys} == {"ES256", "RS256"}
    assert all("d" not in k for k in keys)


def test_protected_resource_metadata_of_the_api(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/.well-known/oauth-protected-resource")
    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == server.url
    assert document["authorization_servers"] == [server.url]
    assert document["jwks_uri"] == f"{server.url}/oauth/jwks"
    assert document["bearer_methods_supported"] == ["header"]


def test_protected_resource_metadata_of_the_mcp_server(server: LiveServer) -> None:
    # RFC 9728 §3.1: the well-known prefix, then the resource's path.
    response = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 200
    assert response.json()["resource"] == MCP_RESOURCE
    assert response.json()["authorization_servers"] == [server.url]
    missing = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/nope")
    assert missing.status_code == 404


def test_without_an_mcp_resource_only_the_api(
    start_server: Callable[..., LiveServer],
) -> None:
    plain = start_server()
    document = httpx.get(f"{plain.url}/.well-known/oauth-authorization-server").json()
    assert document["protected_resources"] == [plain.url]
    assert (
        httpx.get(f"{plain.url}/.well-known/oauth-protected-resource/mcp").status_code
        == 404
    )
