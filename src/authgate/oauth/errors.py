"""The errors of the OAuth specifications, one class per error code.

Each carries its ``error`` code and HTTP status, as ``authgate.errors`` classes
do (these extend that tree, so one renderer serves both)::

    OAuthError                  400
    ├── InvalidClient           401 invalid_client             RFC 6749 §5.2
    ├── InvalidGrant            400 invalid_grant              RFC 6749 §5.2
    ├── UnauthorizedClient      400 unauthorized_client        RFC 6749 §5.2
    ├── UnsupportedGrantType    400 unsupported_grant_type     RFC 6749 §5.2
    ├── InvalidScope            400 invalid_scope              RFC 6749 §5.2
    ├── AccessDenied            400 access_denied              RFC 6749 §4.1.2.1
    ├── UnsupportedResponseType 400 unsupported_response_type  RFC 6749 §4.1.2.1
    ├── ServerError             500 server_error               RFC 6749 §4.1.2.1
    ├── TemporarilyUnavailable  503 temporarily_unavailable    RFC 6749 §4.1.2.1
    ├── InvalidTarget           400 invalid_target             RFC 8707 §2
    ├── AuthorizationPending    400 authorization_pending      RFC 8628 §3.5
    ├── SlowDown                400 slow_down                  RFC 8628 §3.5
    ├── ExpiredToken            400 expired_token              RFC 8628 §3.5
    ├── UnsupportedTokenType    400 unsupported_token_type     RFC 7009 §2.2.1
    ├── LoginRequired           400 login_required             OIDC Core §3.1.2.6
    ├── ConsentRequired         400 consent_required           OIDC Core §3.1.2.6
    └── UnmetAuthenticationRequirements
                                400 unmet_authentication_requirements
                                               OIDC Unmet Authentication Requirements §1

``invalid_request`` (RFC 6749 §5.2), ``invalid_token`` and ``insufficient_scope``
(RFC 6750 §3.1) mean the same outside OAuth, so they are ``authgate.errors``'
classes, re-exported here with RFC 7591's ``invalid_redirect_uri`` and
``invalid_client_metadata``. ``SPEC_ERRORS`` is every error an OAuth endpoint
renders as itself; anything else becomes ``invalid_request`` or ``server_error``.
"""

from authgate.errors import (
    AuthgateError,
    InsufficientScope,
    InvalidClientMetadata,
    InvalidRedirectUri,
    InvalidRequest,
    InvalidToken,
)


class OAuthError(AuthgateError):
    code = "invalid_request"
    status = 400
    default_description = "The request is not valid."


class InvalidClient(OAuthError):
    code = "invalid_client"
    status = 401
    default_description = "Client authentication failed."

    @classmethod
    def basic(cls, description: str | None = None) -> "InvalidClient":
        """RFC 6749 §5.2: a client that tried HTTP Basic gets a Basic challenge."""
        return cls(description, headers={"WWW-Authenticate": 'Basic realm="authgate"'})


class InvalidGrant(OAuthError):
    code = "invalid_grant"
    default_description = "The grant is invalid, expired, revoked or already used."


class UnauthorizedClient(OAuthError):
    code = "unauthorized_client"
    default_description = "This client may not use this grant type."


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"
    default_description = "The grant type is not supported."


class InvalidScope(OAuthError):
    code = "invalid_scope"
    default_description = "The requested scope is invalid or not allowed."


class AccessDenied(OAuthError):
    code = "access_denied"
    default_description = "The user denied the request."


class UnsupportedResponseType(OAuthError):
    code = "unsupported_response_type"
    default_description = "Only response_type=code is supported."


class ServerError(OAuthError):
    code = "server_error"
    status = 500
    default_description = "The server could not complete the request."


class TemporarilyUnavailable(OAuthError):
    code = "temporarily_unavailable"
    status = 503
    default_description = "Try again shortly."


class InvalidTarget(OAuthError):
    code = "invalid_target"
    default_description = "The requested resource is not known here."


class AuthorizationPending(OAuthError):
    code = "authorization_pending"
    default_description = "The user has not yet approved the request."


class SlowDown(OAuthError):
    code = "slow_down"
    default_description = "Polling too fast; wait 5 more seconds between polls."


class ExpiredToken(OAuthError):
    code = "expired_token"
    default_description = "The device code has expired; start again."


class UnsupportedTokenType(OAuthError):
    code = "unsupported_token_type"
    default_description = "This token type cannot be revoked here."


class LoginRequired(OAuthError):
    code = "login_required"
    default_description = "The user is not signed in."


class ConsentRequired(OAuthError):
    code = "consent_required"
    default_description = "The user has not approved this client."


class UnmetAuthenticationRequirements(OAuthError):
    code = "unmet_authentication_requirements"
    default_description = "The sign-in this client asks for cannot be done."


SPEC_ERRORS = (OAuthError, InvalidRequest, InvalidToken, InsufficientScope)

__all__ = [
    "SPEC_ERRORS",
    "AccessDenied",
    "AuthorizationPending",
    "ConsentRequired",
    "ExpiredToken",
    "InsufficientScope",
    "InvalidClient",
    "InvalidClientMetadata",
    "InvalidGrant",
    "InvalidRedirectUri",
    "InvalidRequest",
    "InvalidScope",
    "InvalidTarget",
    "InvalidToken",
    "LoginRequired",
    "OAuthError",
    "ServerError",
    "SlowDown",
    "TemporarilyUnavailable",
    "UnauthorizedClient",
    "UnmetAuthenticationRequirements",
    "UnsupportedGrantType",
    "UnsupportedResponseType",
    "UnsupportedTokenType",
]
