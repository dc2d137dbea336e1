"""FastAPI adapter: ``CurrentPrincipal``, ``require_scope()``, ``require_role()``.

Failures answer as RFC 6750 §3 says: ``401`` with ``WWW-Authenticate: Bearer``
(and ``error="invalid_token"`` when a credential was refused), ``403`` with
``error="insufficient_scope"`` and the scope needed.
"""

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from authgate.guard._challenge import challenge
from authgate.guard._principal import Principal


def _fail(
    request: Request,
    status: int,
    error: str,
    description: str,
    scope: str | None = None,
) -> HTTPException:
    header = challenge(
        error,
        description,
        scope=scope,
        resource_metadata=getattr(request.state, "auth_resource_metadata", None),
    )
    return HTTPException(
        status,
        detail={"error": error, "error_description": description},
        headers={"WWW-Authenticate": header},
    )


def get_principal(request: Request) -> Principal:
    """The caller, or the RFC 6750 answer: 401 with a challenge naming the
    resource's metadata, or 503 when the verifier could not decide."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        return principal
    auth_error = getattr(request.state, "auth_error", None)
    if auth_error is not None and auth_error.status != 401:
        raise HTTPException(
            auth_error.status,
            detail={
                "error": "temporarily_unavailable",
                "error_description": auth_error.description,
            },
        )
    if auth_error is not None:
        raise _fail(request, 401, auth_error.error, auth_error.description)
    header = challenge(
        resource_metadata=getattr(request.state, "auth_resource_metadata", None)
    )
    raise HTTPException(
        401,
        detail={
            "error": "unauthenticated",
            "error_description": "Sign in or send a valid token.",
        },
        headers={"WWW-Authenticate": header},
    )


async def _current_principal(request: Request) -> Principal:
    # async, so FastAPI calls it on the event loop instead of in a worker thread
    return get_principal(request)


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def require_scope(*scopes: str) -> Any:
    """A dependency that passes only callers holding every one of ``scopes``."""

    async def check(request: Request, principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(*scopes):
            raise _fail(
                request,
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

    async def check(principal: CurrentPrincipal) -> Principal:
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
