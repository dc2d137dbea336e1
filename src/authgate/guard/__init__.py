"""Authenticate requests in any ASGI app with Authgate credentials.

Mount :class:`GuardMiddleware` with the verifiers you need, then read the caller
as ``request.state.principal``, :func:`current_principal`, or (FastAPI)
``authgate.guard.fastapi.CurrentPrincipal``. Needs only the standard library,
PyJWT and httpx: no Authgate server code.
"""

from authgate.guard._cache import VerificationCache, Verified
from authgate.guard._credentials import Credential, extract
from authgate.guard._errors import CredentialError
from authgate.guard._middleware import GuardMiddleware, current_principal
from authgate.guard._principal import Kind, Principal
from authgate.guard._remote import IntrospectionVerifier, IssuerMetadata, JwksKeySource
from authgate.guard._resource import (
    metadata_path,
    metadata_url,
    protected_resource_metadata,
    remote_verifiers,
)
from authgate.guard._verifiers import (
    ACCESS_TOKEN_TYPES,
    JwtVerifier,
    KeySource,
    Verifier,
    principal_from_claims,
)

__all__ = [
    "ACCESS_TOKEN_TYPES",
    "Credential",
    "CredentialError",
    "GuardMiddleware",
    "IntrospectionVerifier",
    "IssuerMetadata",
    "JwksKeySource",
    "JwtVerifier",
    "KeySource",
    "Kind",
    "Principal",
    "VerificationCache",
    "Verified",
    "Verifier",
    "current_principal",
    "extract",
    "metadata_path",
    "metadata_url",
    "principal_from_claims",
    "protected_resource_metadata",
    "remote_verifiers",
]
