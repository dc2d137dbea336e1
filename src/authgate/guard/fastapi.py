"""FastAPI adapter: ``CurrentPrincipal``, ``require_scope()``, ``require_role()``.

Failures answer as RFC 6750 §3 says: ``401`` with ``WWW-Authenticate: Bearer``
(and ``error="invalid_token"`` when a credential was refused), ``403`` with
``error="insufficient_scope"`` and the scope needed.
"""

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from authgate.guard._principal import Principal


def _challenge(
    error: str | None = None, description: str | None = None, **extra: str
) -> str:
    params = {"error": error, "error_description": description, **extra}
    parts = [f'{k}="{v}"' for k, v in params.items() if v]
    return "Bearer" + (" " + ", ".join(parts) if parts else "")


def _fail(status: int, error: str, description: str, **challenge: str) -> HTTPException:
    return HTTPException(
        status,
        detail={"error": error, "error_description": description},
        headers={"WWW-Authenticate": _challenge(error, description, **challenge)},
    )


def get_principal(request: Request) -> Principal:
    principal: Principal | None = (
        request.state.principal if hasattr(request.state, "principal") else None
    )
    if principal is not None:
        return principal
    auth_error = getattr(request.state, "auth_error", None)
    if auth_error is not None:
        if auth_error.status != 401:
            raise HTTPException(
                auth_error.status,
                detail={
                    "error": "temporarily_unavailable",
                    "error_description": auth_error.description,
                },
            )
        raise _fail(401, auth_error.error, auth_error.description)
    raise HTTPException(
        401,
        detail={
            "error": "unauthenticated",
            "error_description": "Sign in or send a valid token.",
        },
        headers={"WWW-Authenticate": "Bearer"},
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_scope(*scopes: str) -> Any:
    """A dependency that passes only callers holding every one of ``scopes``."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(*scopes):
            raise _fail(
                403,
                "insufficient_scope",
                f"This needs the scope: {' '.join(scopes)}.",
                scope=" ".join(scopes),
            )
        return principal

    return Depends(check)


def require_role(*roles: str) -> Any:
    """A dependency that passes callers whose org role (or instance role) is
    one of ``roles``."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles and not (principal.roles & set(roles)):
            raise HTTPException(
                403,
                detail={
                    "error": "forbidden",
                    "error_description": f"This needs the role: {' or '.join(roles)}.",
                },
            )
        return principal

    return Depends(check)
