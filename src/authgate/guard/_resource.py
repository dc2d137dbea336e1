"""A resource server's own RFC 9728 metadata, and the verifiers it needs to
accept Authgate credentials offline (JWTs) and by introspection (opaque ones)."""

from typing import Any
from urllib.parse import urlsplit

from authgate.guard._remote import (
    IntrospectionVerifier,
    IssuerMetadata,
    JwksKeySource,
    NoIntrospection,
)
from authgate.guard._verifiers import JwtVerifier, Verifier

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_url(resource: str) -> str:
    """Where RFC 9728 §3.1 puts a resource's metadata: the well-known segment
    goes between the host and the resource's path."""
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def metadata_path(resource: str) -> str:
    """The path to serve :func:`metadata_url` at."""
    return WELL_KNOWN + urlsplit(resource).path.rstrip("/")


def protected_resource_metadata(
    resource: str, authorization_server: str, scopes: list[str] | None = None
) -> dict[str, Any]:
    """The RFC 9728 document a resource serves at :func:`metadata_path`."""
    return {
        "resource": resource,
        "authorization_servers": [authorization_server.rstrip("/")],
        "scopes_supported": scopes or ["read", "write"],
        "bearer_methods_supported": ["header"],
    }


def remote_verifiers(
    issuer: str,
    *,
    audience: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    introspection_cache_seconds: float = 5.0,
    jwks_min_refresh_seconds: float = 30.0,
) -> list[Verifier]:
    """Verifiers for a resource server in another process.

    JWT access tokens are checked offline against the issuer's JWKS and must
    name ``audience``; with a confidential client's credentials, PATs and API
    keys are accepted too, by introspection (without, they are refused with
    a description saying so).

    Example:
        >>> verifiers = remote_verifiers(  # doctest: +SKIP
        ...     "https://auth.example.com", audience="https://api.example.com"
        ... )
    """
    metadata = IssuerMetadata(issuer)
    keys = JwksKeySource(metadata, min_refresh_interval=jwks_min_refresh_seconds)
    verifiers: list[Verifier] = [
        JwtVerifier(keys, issuer=metadata.issuer, audience=audience)
    ]
    if client_id and client_secret:
        verifiers.append(
            IntrospectionVerifier(
                metadata,
                client_id=client_id,
                client_secret=client_secret,
                audience=audience,
                cache_seconds=introspection_cache_seconds,
            )
        )
    else:
        verifiers.append(NoIntrospection())
    return verifiers
