"""Annotated dependencies the routers share.

Every dependency is ``async def``, even those that never await: FastAPI runs a
plain ``def`` dependency in a worker thread, a thread hop per dependency per
request for what is a dictionary read.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from authgate.config import Settings
from authgate.domain import authority, clients, factors, step_up
from authgate.domain.authority import Power
from authgate.domain.context import Peer
from authgate.domain.credentials import Parent
from authgate.errors import Forbidden, InsufficientScope, RateLimited
from authgate.guard import Principal
from authgate.guard.fastapi import get_principal
from authgate.server.org_context import HEADER
from authgate.server.principals import authentication, holder
from authgate.server.services import Services
from authgate.util import clock
from authgate.util.addresses import limit_key
from authgate.web.security import SAFE_METHODS, check_csrf, same_origin


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    services: Services = request.app.state.services
    return services.settings


async def get_peer(request: Request) -> Peer:
    """Who sent the request: ``ForwardedMiddleware`` has already put the
    client's address (not a trusted proxy's) in the scope."""
    return Peer(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def get_caller(request: Request) -> Principal:
    """The authenticated caller. A cookie-authenticated unsafe request must pass
    the CSRF check; any unsafe request needs the ``write`` scope, so read-only
    API keys and tokens can look but not touch.

    It takes the services from the request, not as a sub-dependency: FastAPI
    solves a dependency's whole subtree again on every use, cached or not."""
    services = await get_services(request)
    principal = get_principal(request)
    if request.state.auth_transport == "cookie":
        check_csrf(request, services.derived_keys("csrf"), services.settings)
    elif principal.kind == "local" and request.method not in SAFE_METHODS:
        # Single-user mode needs no credential, so any site the owner visits
        # could make their browser change things here. Browsers say where a
        # request comes from; a CLI or script sends no Origin and passes.
        source = request.headers.get("origin") or request.headers.get("referer")
        if source and not same_origin(request, services.settings):
            raise Forbidden("Cross-site request refused (origin check).")
    if request.method not in SAFE_METHODS and not principal.has_scope("write"):
        raise InsufficientScope(
            "This credential is read-only; this needs the write scope."
        )
    # The org the credential itself is bound to, before the request's context
    # takes its place: what such a credential creates stays in that org.
    request.state.credential_org_id = principal.org_id
    principal = await services.orgs.apply(
        principal, request.headers.get(HEADER), request.path_params.get("org")
    )
    request.state.principal = principal
    return principal


async def held(request: Request, caller: Principal) -> authority.Holder:
    """The caller as ``authority`` judges it, with its person's admin flag as
    it is now (the user cache is evicted when it changes)."""
    services = await get_services(request)
    user = await services.user(caller.user_id) if caller.user_id else None
    return holder(services.settings, caller, user)


#: The credentials that carry a sign-in of their own, which step-up judges. A
#: PAT (minted under a recent sign-in already), an API key, a client's own
#: token and single-user mode keep what ``authority`` gives them.
SIGNED_IN_KINDS = frozenset({"session", "jwt"})


async def sign_in_shortfall(
    services: Services, caller: Principal
) -> step_up.Shortfall | None:
    """What the caller's sign-in lacks for a sensitive action (RFC 9470): to
    be within ``AUTHGATE_STEP_UP_MAX_AGE``, and to have used the second
    factor its person has. The API and the pages both ask here."""
    if caller.kind not in SIGNED_IN_KINDS or caller.user_id is None:
        return None
    async with services.db.read() as tx:
        factor = await factors.has_factor(tx, caller.user_id)
    return step_up.shortfall(
        authentication(caller),
        max_age=services.settings.step_up_max_age,
        has_factor=factor,
        now=clock.now(),
    )


async def first_party_shortfall(
    services: Services, client_id: str, caller: Principal
) -> step_up.Shortfall | None:
    """A first-party client's login (the CLI's) carries the person's full
    rights, sensitive actions included, so approving one needs the sign-in
    those actions would: else its tokens would be born too old to use them,
    and signing in with it again would not help."""
    if client_id not in clients.FIRST_PARTY_CLIENTS:
        return None
    return await sign_in_shortfall(services, caller)


async def require_recent_sign_in(request: Request, caller: Principal) -> None:
    """Raise ``insufficient_user_authentication`` (401, with its challenge)
    when :func:`sign_in_shortfall` finds something missing."""
    gap = await sign_in_shortfall(await get_services(request), caller)
    if gap is not None:
        raise gap.error()


def requiring(
    power: Power, *, recent: bool = False
) -> Callable[[Request, Principal], Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller when its credential has ``power``, else
    the 403 that says why: the one gate for every route that needs more than
    a scope. ``recent``: a change (not a read) also needs a recent sign-in
    (:func:`require_recent_sign_in`)."""

    async def check(
        request: Request, caller: Annotated[Principal, Depends(get_caller)]
    ) -> Principal:
        authority.require(await held(request, caller), power)
        if recent and request.method not in SAFE_METHODS:
            await require_recent_sign_in(request, caller)
        return caller

    return check


def revoking(
    param: str,
) -> Callable[[Request, Principal], Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller when it may revoke the PAT or API key
    the path parameter ``param`` names (``authority.require_revoke``)."""

    async def check(
        request: Request, caller: Annotated[Principal, Depends(get_caller)]
    ) -> Principal:
        authority.require_revoke(
            await held(request, caller), request.path_params[param]
        )
        return caller

    return check


@dataclass(frozen=True, slots=True)
class Minter:
    """A caller that may create PATs and API keys: whose they are, and what
    they may not exceed."""

    user_id: str
    parent: Parent


async def get_minter(
    request: Request, caller: Annotated[Principal, Depends(get_caller)]
) -> Minter:
    found = await held(request, caller)
    user_id = authority.require(found, Power.CREDENTIALS)
    await require_recent_sign_in(request, caller)
    return Minter(user_id=user_id, parent=authority.parent(found))


async def get_bound_org(
    request: Request, _caller: Annotated[Principal, Depends(get_caller)]
) -> str | None:
    """The org the request's credential is bound to (an org's API key, a token
    made for an org), or ``None``."""
    bound: str | None = request.state.credential_org_id
    return bound


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PeerDep = Annotated[Peer, Depends(get_peer)]
Caller = Annotated[Principal, Depends(get_caller)]
#: Instance administration (``authority.Power.ADMIN``); a change needs a
#: recent sign-in.
Admin = Annotated[Principal, Depends(requiring(Power.ADMIN, recent=True))]
#: Ending sessions, organizations and their memberships.
ManagesAccount = Annotated[Principal, Depends(requiring(Power.ACCOUNT))]
#: How the person signs in: password, email, recovery key, second factors; a
#: change needs a recent sign-in, with the second factor when there is one.
ChangesSignIn = Annotated[Principal, Depends(requiring(Power.SIGN_IN, recent=True))]
Minting = Annotated[Minter, Depends(get_minter)]
BoundOrg = Annotated[str | None, Depends(get_bound_org)]


#: What a client over its rate limit is told, by the API and the pages alike.
TOO_MANY = "Too many attempts; try again in a minute."


async def over_limit(
    services: Services, peer: Peer, bucket: str, per_minute: int | None = None
) -> int | None:
    """Count one request from the client's address (an IPv6 /64) against
    ``bucket`` (the API and the pages share each bucket); the seconds to wait
    when over ``per_minute`` (default: the sign-in limit)."""
    settings = services.settings
    if not settings.rate_limit_enabled:
        return None
    return await services.limiter.hit(
        bucket,
        limit_key(peer.ip),
        per_minute or settings.login_rate_limit_per_minute,
    )


def retry_after(response: Response, wait: int) -> Response:
    """A page's 429 with the ``Retry-After`` the API's carries too."""
    response.headers["Retry-After"] = str(wait)
    return response


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A dependency limiting requests per client address for one endpoint
    group; a class, so ``web/openapi.py`` can tell the routes it guards."""

    bucket: str

    async def __call__(self, services: ServicesDep, peer: PeerDep) -> None:
        wait = await over_limit(services, peer, self.bucket)
        if wait is not None:
            raise RateLimited(TOO_MANY, retry_after=wait)


def rate_limit(bucket: str) -> Any:
    """``dependencies=[rate_limit("login")]``."""
    return Depends(RateLimit(bucket))
