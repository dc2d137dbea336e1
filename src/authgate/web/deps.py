"""Annotated dependencies the routers share."""

from typing import Annotated, Any

from fastapi import Depends, Request

from authgate.config import Settings
from authgate.domain.context import ClientInfo
from authgate.errors import Forbidden, InsufficientScope, RateLimited
from authgate.guard import Principal
from authgate.guard.fastapi import get_principal
from authgate.web.org_context import HEADER
from authgate.web.security import SAFE_METHODS, check_csrf
from authgate.web.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    return get_services(request).settings


def get_client(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def get_caller(
    request: Request, services: Annotated[Services, Depends(get_services)]
) -> Principal:
    """The authenticated caller. A cookie-authenticated unsafe request must pass
    the CSRF check; any unsafe request needs the ``write`` scope, so read-only
    API keys and tokens can look but not touch."""
    principal = get_principal(request)
    if request.state.auth_transport == "cookie":
        check_csrf(request, services.derived_key("csrf"), services.settings)
    if request.method not in SAFE_METHODS and not principal.has_scope("write"):
        raise InsufficientScope(
            "This credential is read-only; this needs the write scope."
        )
    principal = await services.orgs.apply(principal, request.headers.get(HEADER))
    request.state.principal = principal
    return principal


async def get_admin(caller: Annotated[Principal, Depends(get_caller)]) -> Principal:
    if not caller.is_admin:
        raise Forbidden("This needs an instance administrator.")
    return caller


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Client = Annotated[ClientInfo, Depends(get_client)]
Caller = Annotated[Principal, Depends(get_caller)]
Admin = Annotated[Principal, Depends(get_admin)]


def rate_limit(bucket: str) -> Any:
    """A dependency limiting requests per client IP for one endpoint group."""

    def check(services: ServicesDep, client: Client) -> None:
        settings = services.settings
        if not settings.rate_limit_enabled:
            return
        wait = services.limiter.hit(
            f"{bucket}:{client.ip}", settings.login_rate_limit_per_minute
        )
        if wait is not None:
            raise RateLimited(
                "Too many attempts; try again in a minute.", retry_after=wait
            )

    return Depends(check)
