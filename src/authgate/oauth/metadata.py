"""Discovery documents: Authorization Server Metadata (RFC 8414 §2), OpenID
Provider Metadata (OIDC Discovery §3) and Protected Resource Metadata
(RFC 9728 §2). Clients find every endpoint here, so nothing else needs to be
configured in them but the issuer (or a resource's URL)."""

from typing import Any

from authgate.domain import assurance, clients
from authgate.domain.signing_keys import ID_TOKEN_ALG
from authgate.oauth import pkce
from authgate.oauth.server import (
    AUTHORIZE,
    DEVICE_AUTHORIZATION,
    END_SESSION,
    INTROSPECT,
    JWKS,
    REGISTER,
    REVOKE,
    TOKEN,
    USERINFO,
    Server,
)

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nonce", "azp", "at_hash",
          "auth_time", "amr", "acr",
          "preferred_username", "name", "email", "email_verified"]  # fmt: skip
#: OIDC Core §3.1.2.1: ``none``, ``login`` and ``consent`` are honoured
#: (``select_account`` is not: one browser holds one session).
PROMPTS = ["none", "login", "consent"]


def authorization_server(server: Server) -> dict[str, Any]:
    """RFC 8414 §2, with the OIDC members (so one document serves both)."""
    return {
        "issuer": server.issuer,
        "authorization_endpoint": server.url(AUTHORIZE),
        "token_endpoint": server.url(TOKEN),
        "device_authorization_endpoint": server.url(DEVICE_AUTHORIZATION),
        "registration_endpoint": server.url(REGISTER),
        "revocation_endpoint": server.url(REVOKE),
        "introspection_endpoint": server.url(INTROSPECT),
        "userinfo_endpoint": server.url(USERINFO),
        "jwks_uri": server.url(JWKS),
        "scopes_supported": list(clients.SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(clients.GRANT_TYPES),
        "code_challenge_methods_supported": [pkce.METHOD],
        "token_endpoint_auth_methods_supported": [*SECRET_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": [*SECRET_METHODS, "none"],
        "introspection_endpoint_auth_methods_supported": SECRET_METHODS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
        "userinfo_signing_alg_values_supported": ["none"],
        "claims_supported": CLAIMS,
        "acr_values_supported": list(assurance.LEVELS),
        "prompt_values_supported": PROMPTS,
        "end_session_endpoint": server.url(END_SESSION),
        "authorization_response_iss_parameter_supported": True,  #: RFC 9207 §3
        "client_id_metadata_document_supported": True,  #: MCP / CIMD draft
        "protected_resources": list(server.resources.allowed),  #: RFC 9728 §4
    }


def openid_configuration(server: Server) -> dict[str, Any]:
    return authorization_server(server)


def protected_resource(server: Server, resource: str) -> dict[str, Any]:
    """RFC 9728 §2 for one of the resources tokens are issued for."""
    return {
        "resource": resource,
        "authorization_servers": [server.issuer],
        "jwks_uri": server.url(JWKS),
        "scopes_supported": list(clients.SUPPORTED_SCOPES),
        "bearer_methods_supported": ["header"],
    }
