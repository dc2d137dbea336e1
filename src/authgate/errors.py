"""The one exception tree the domain raises and the web layer renders.

::

    AuthgateError                      500 server_error
    ├── InvalidRequest                 400 invalid_request
    │   ├── WeakPassword               400 weak_password
    │   ├── InvalidRedirectUri         400 invalid_redirect_uri     (RFC 7591 §3.2.2)
    │   └── InvalidClientMetadata      400 invalid_client_metadata  (RFC 7591 §3.2.2)
    ├── Unauthenticated                401 unauthenticated
    │   ├── InvalidCredentials         401 invalid_credentials
    │   ├── InvalidToken               401 invalid_token
    │   └── InvalidMfaToken            401 invalid_mfa_token
    │   └── InsufficientUserAuthentication
    │                                  401 insufficient_user_authentication (RFC 9470)
    ├── Forbidden                      403 forbidden
    │   ├── InsufficientScope          403 insufficient_scope
    │   └── SignInRefused              403 signin_refused
    ├── NotFound                       404 not_found
    ├── Conflict                       409 conflict
    ├── PayloadTooLarge                413 payload_too_large
    └── RateLimited                    429 rate_limited

Each class carries the ``error`` code and HTTP status it renders as, so the
domain can say what went wrong without knowing about HTTP. The authorization
server's RFC errors (``authgate.oauth.errors.OAuthError`` and one subclass per
RFC error code) hang off ``AuthgateError`` too, so one handler renders both;
``invalid_request``, ``invalid_token`` and ``insufficient_scope`` mean the same
in both worlds and are defined once, here.
"""

from collections.abc import Mapping


class AuthgateError(Exception):
    """``headers`` are the response headers an error needs beside its body (a
    ``WWW-Authenticate`` challenge, RFC 6750 §3 and RFC 6749 §5.2)."""

    code = "server_error"
    status = 500
    default_description = "The server could not complete the request."

    def __init__(
        self,
        description: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.description = description or self.default_description
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.description)


class InvalidRequest(AuthgateError):
    code = "invalid_request"
    status = 400
    default_description = "The request is not valid."


class WeakPassword(InvalidRequest):
    code = "weak_password"


class InvalidRedirectUri(InvalidRequest):
    code = "invalid_redirect_uri"
    default_description = "A redirect URI is not acceptable."


class InvalidClientMetadata(InvalidRequest):
    code = "invalid_client_metadata"
    default_description = "The client's metadata is not acceptable."


class Unauthenticated(AuthgateError):
    code = "unauthenticated"
    status = 401
    default_description = "Sign in or send a valid token."


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    # One message for a wrong password, an unknown user and a locked account, so
    # the answer never tells which (OWASP ASVS 2.2.1 / 3.2 account enumeration).
    default_description = "Invalid username or password."


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    default_description = "The token is invalid, expired or revoked."


class InvalidMfaToken(Unauthenticated):
    """An ``mfa_token`` that is altered, expired or already used."""

    code = "invalid_mfa_token"
    default_description = (
        "This sign-in has expired or was already finished. Sign in again."
    )


class InsufficientUserAuthentication(Unauthenticated):
    """RFC 9470 §3: the person's sign-in is too old for this action, or lacks
    the second factor it needs. The challenge says what would do: a sign-in
    within ``max_age`` seconds, at level ``acr_values`` when given. The
    description is the server's own text (never input), so it needs no
    escaping inside the quoted string."""

    code = "insufficient_user_authentication"
    default_description = "This needs a more recent sign-in."

    def __init__(
        self,
        description: str | None = None,
        *,
        max_age: int,
        acr_values: str | None = None,
    ) -> None:
        text = description or self.default_description
        challenge = (
            f'Bearer error="{self.code}", error_description="{text}", '
            f'max_age="{max_age}"'
        )
        if acr_values:
            challenge += f', acr_values="{acr_values}"'
        super().__init__(text, headers={"WWW-Authenticate": challenge})
        self.max_age = max_age
        self.acr_values = acr_values


class Forbidden(AuthgateError):
    code = "forbidden"
    status = 403
    default_description = "You are not allowed to do this."


class MfaEnrollmentRequired(Forbidden):
    """An organization requires a second factor of its members, and this
    person has none yet."""

    code = "mfa_enrollment_required"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    default_description = "The credential lacks the scope this needs."


class SignInRefused(Forbidden):
    """A sign-in or sign-up refused by policy (allowlist, invite rule, an
    unverified email, a failed upstream check). ``reason`` is the short
    machine-readable cause the audit log records."""

    code = "signin_refused"
    default_description = "Sign-in refused."

    def __init__(self, reason: str, description: str | None = None) -> None:
        super().__init__(description)
        self.reason = reason


class NotFound(AuthgateError):
    code = "not_found"
    status = 404
    default_description = "Not found."


class Conflict(AuthgateError):
    code = "conflict"
    status = 409
    default_description = "That conflicts with existing data."


class PayloadTooLarge(AuthgateError):
    code = "payload_too_large"
    status = 413
    default_description = "The request body is too large."


class RateLimited(AuthgateError):
    code = "rate_limited"
    status = 429
    default_description = "Too many requests; try again later."

    def __init__(self, description: str | None = None, retry_after: int = 60) -> None:
        super().__init__(description, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
