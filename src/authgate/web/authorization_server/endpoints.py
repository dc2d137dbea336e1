"""``/oauth/*`` and ``/.well-known/*``: the one HTTP adapter onto ``authgate.oauth``.

Each endpoint parses its body itself (form-encoded, as RFC 6749 §3.2 requires;
JSON for RFC 7591 registration), so a malformed request is answered in OAuth's
error shape, never FastAPI's. Client metadata documents are fetched before the
transaction opens; the handler then runs in one transaction, which commits
even when the answer is an error (see ``authgate.oauth``).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from authgate.config import Settings
from authgate.domain import authority
from authgate.errors import RateLimited
from authgate.oauth import (
    client_auth,
    device,
    introspection,
    metadata,
    registration,
    revocation,
    token,
    userinfo,
)
from authgate.oauth import server as endpoints
from authgate.oauth.client_metadata import Documents
from authgate.oauth.errors import (
    SPEC_ERRORS,
    InsufficientScope,
    InvalidClient,
    InvalidRequest,
    InvalidToken,
)
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.server.services import Services
from authgate.util.addresses import limit_key
from authgate.web.deps import (
    TOO_MANY,
    ServicesDep,
    get_peer,
    held,
    over_limit,
    sign_in_shortfall,
)
from authgate.web.openapi import CLIENT_AUTHENTICATION
from authgate.web.schemas import failures

router = APIRouter(tags=["oauth"])

#: Discovery documents change only with configuration: let clients cache them.
_DISCOVERY_CACHE = {"Cache-Control": "public, max-age=300"}
_FORM = "application/x-www-form-urlencoded"


def render(response: OAuthResponse) -> JSONResponse:
    return JSONResponse(
        dict(response.body), status_code=response.status, headers=dict(response.headers)
    )


async def read_form(request: Request) -> OAuthRequest:
    """The form body as an :class:`OAuthRequest`, or ``invalid_request``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type.lower() != _FORM:
        raise InvalidRequest(f"Send the parameters as {_FORM}.")
    try:
        form = await request.form()
    except Exception:  # a malformed body, whatever the parser makes of it
        raise InvalidRequest("The form body cannot be parsed.") from None
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return OAuthRequest.from_pairs(
        pairs,
        authorization=request.headers.get("authorization"),
        peer=await get_peer(request),
    )


async def _documents(services: Services, request: OAuthRequest) -> Documents:
    return await services.oauth.documents.prefetch(
        client_auth.claimed_client_id(request)
    )


@dataclass(frozen=True, slots=True)
class Budget:
    """A per-client request limit: ``bucket`` and the setting naming its size."""

    bucket: str
    per_minute: Callable[[Settings], int]


#: Failed client authentications per address, at every client endpoint.
_AUTH_FAILURES = "oauth-client-auth-failed"
_TOKEN = Budget("oauth-token", lambda s: s.oauth_token_rate_limit_per_minute)
_DEVICE = Budget("oauth-device", lambda s: s.device_authorization_rate_limit_per_minute)


def _budget_key(request: OAuthRequest) -> str | None:
    """Whose budget a request spends: a confidential client's own (only
    requests it authenticates spend it, so nobody else can exhaust it); a
    public client's, which anyone may name, per client and address."""
    try:
        presented = client_auth.presented(request)
    except SPEC_ERRORS:
        return None
    if presented.client_id is None:
        return None
    if presented.method == "none":
        return f"{presented.client_id} {limit_key(request.peer.ip)}"
    return presented.client_id


async def _admit(
    services: Services, request: OAuthRequest, budget: Budget | None
) -> None:
    """Before the work: refuse (429) an address whose client authentications
    keep failing, or a client over its budget. Only checked here, and spent
    by :func:`_charge` once the outcome says whose budget it was."""
    settings = services.settings
    if not settings.rate_limit_enabled:
        return
    limiter = services.limiter
    address = limit_key(request.peer.ip)
    wait = await limiter.peek(
        _AUTH_FAILURES, address, settings.login_rate_limit_per_minute
    )
    key = _budget_key(request) if budget is not None else None
    if wait is None and budget is not None and key is not None:
        wait = await limiter.peek(budget.bucket, key, budget.per_minute(settings))
    if wait is not None:
        raise RateLimited(TOO_MANY, retry_after=wait)


async def _charge(
    services: Services,
    request: OAuthRequest,
    budget: Budget | None,
    answer: OAuthResponse,
) -> None:
    """After the work: a failed client authentication is charged to the
    sender's address (a random ``client_id`` per request would otherwise find
    a fresh budget each time), anything else to the client's budget."""
    settings = services.settings
    if not settings.rate_limit_enabled:
        return
    limiter = services.limiter
    if answer.body.get("error") == InvalidClient.code:
        await limiter.hit(
            _AUTH_FAILURES,
            limit_key(request.peer.ip),
            settings.login_rate_limit_per_minute,
        )
        return
    key = _budget_key(request) if budget is not None else None
    if budget is not None and key is not None:
        await limiter.hit(budget.bucket, key, budget.per_minute(settings))


async def _client_endpoint(
    request: Request,
    services: Services,
    handler: Any,
    budget: Budget | None = None,
    reads_only: Callable[[OAuthRequest], bool] = lambda _request: False,
) -> Any:
    """Form in, limits checked, one transaction around ``handler`` (a read
    when ``reads_only`` says the request writes nothing), OAuth JSON out."""
    try:
        oauth_request = await read_form(request)
    except SPEC_ERRORS as exc:
        return render(OAuthResponse.error(exc))
    await _admit(services, oauth_request, budget)
    documents = await _documents(services, oauth_request)
    db = services.db
    unit = db.read() if reads_only(oauth_request) else db.transaction()
    async with unit as tx:
        answer: OAuthResponse = await handler(
            tx, services.oauth, oauth_request, documents
        )
    await _charge(services, oauth_request, budget, answer)
    return render(answer)


@router.post(
    endpoints.TOKEN,
    response_model=None,
    summary="Obtain tokens (OAuth token endpoint)",
    responses=failures(400, 401, 429),
    openapi_extra={"security": CLIENT_AUTHENTICATION},
)
async def token_endpoint(request: Request, services: ServicesDep) -> Response:
    """Token endpoint (RFC 6749 §3.2): authorization_code, refresh_token,
    client_credentials and device_code grants."""
    response: Response = await _client_endpoint(
        request, services, token.handle, _TOKEN, token.reads_only
    )
    if response.status_code == 200:
        # Counted after the commit; the form was parsed (and kept) above.
        grant_type = (await request.form()).get("grant_type")
        if isinstance(grant_type, str):
            services.metrics.token_issued(grant_type)
    return response


@router.post(
    endpoints.DEVICE_AUTHORIZATION,
    response_model=None,
    summary="Start a device authorization",
    responses=failures(400, 401, 429),
    openapi_extra={"security": CLIENT_AUTHENTICATION},
)
async def device_authorization(request: Request, services: ServicesDep) -> Response:
    """Device authorization endpoint (RFC 8628 §3.1)."""
    response: Response = await _client_endpoint(
        request, services, device.authorize, _DEVICE
    )
    return response


@router.post(
    endpoints.REVOKE,
    response_model=None,
    summary="Revoke a token",
    responses=failures(400, 401, 429),
    openapi_extra={"security": CLIENT_AUTHENTICATION},
)
async def revoke(request: Request, services: ServicesDep) -> Response:
    """Token revocation (RFC 7009)."""
    response: Response = await _client_endpoint(request, services, revocation.revoke)
    return response


@router.post(
    endpoints.INTROSPECT,
    response_model=None,
    summary="Introspect a token",
    responses=failures(400, 401, 429),
    openapi_extra={"security": CLIENT_AUTHENTICATION},
)
async def introspect(request: Request, services: ServicesDep) -> Response:
    """Token introspection (RFC 7662), for confidential clients."""
    response: Response = await _client_endpoint(
        request, services, introspection.introspect, reads_only=lambda _request: True
    )
    return response


@router.post(
    endpoints.REGISTER,
    response_model=None,
    status_code=201,
    summary="Register an OAuth client",
    responses=failures(400, 401, 403, 429),
    # Open registration needs no credential; an administrator's registers more.
    openapi_extra={"security": [{}, {"bearer": []}]},
)
async def register(request: Request, services: ServicesDep) -> Response:
    """Dynamic client registration (RFC 7591); a credential that may
    administer (``authority``) registers any client, anyone else what open
    registration allows. A credential sent with the request (not the cookie,
    which any site can make a browser send) must carry ``write``: registering
    is a change, and a read-only token is meant to change nothing. Each
    address registers at most ``oauth_register_rate_limit_per_minute``."""
    peer = await get_peer(request)
    wait = await over_limit(
        services,
        peer,
        "oauth-register",
        services.settings.oauth_register_rate_limit_per_minute,
    )
    if wait is not None:
        raise RateLimited(TOO_MANY, retry_after=wait)
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return render(OAuthResponse.error(InvalidRequest("The body is not JSON.")))
    principal = getattr(request.state, "principal", None)
    admin_id = None
    if principal is not None and request.state.auth_transport != "cookie":
        if not principal.has_scope("write"):
            return render(
                OAuthResponse.error(
                    InsufficientScope(
                        "This credential is read-only; registering a client "
                        "needs the write scope."
                    )
                )
            )
        found = await held(request, principal)
        if authority.Power.ADMIN in authority.powers(found):
            # Registering as an administrator is an admin change: step-up.
            gap = await sign_in_shortfall(services, principal)
            if gap is not None:
                return render(OAuthResponse.error(gap.error()))
            admin_id = found.user_id
    async with services.db.transaction() as tx:
        answer = await registration.register(
            tx,
            services.oauth,
            body,
            admin_id=admin_id,
            peer=peer,
        )
    return render(answer)


#: UserInfo's description, the same for GET and POST.
_USERINFO: dict[str, Any] = {
    "response_model": None,
    "summary": "Read the signed-in person's claims",
    "responses": failures(401, 403),
    "openapi_extra": {"security": [{"bearer": []}, {"oauth2": ["openid"]}]},
}


# One route per method: a route with both gives /openapi.json one operation id
# twice (a warning, an error under pytest).
@router.get(endpoints.USERINFO, operation_id="userinfo_get", **_USERINFO)
@router.post(endpoints.USERINFO, operation_id="userinfo_post", **_USERINFO)
async def userinfo_endpoint(request: Request, services: ServicesDep) -> Response:
    """OIDC UserInfo (OIDC Core §5.3), for an access token with ``openid``."""
    principal = getattr(request.state, "principal", None)
    try:
        if principal is None or principal.kind != "jwt":
            raise InvalidToken(
                "Send an access token: Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        async with services.db.transaction() as tx:
            claims = await userinfo.claims(
                tx, user_id=principal.user_id, scopes=principal.scopes
            )
    except SPEC_ERRORS as exc:
        return render(OAuthResponse.error(exc))
    return JSONResponse(claims, headers={"Cache-Control": "no-store"})


@router.get("/oauth/jwks", summary="List the public signing keys")
async def jwks(services: ServicesDep, response: Response) -> dict[str, Any]:
    """Published signing keys (RFC 7517): current ones and retired ones whose
    tokens may still be alive."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return services.keys.ring.jwks()


@router.get(
    endpoints.AUTHORIZATION_SERVER_METADATA, summary="Describe the authorization server"
)
async def authorization_server_metadata(services: ServicesDep) -> JSONResponse:
    """Authorization Server Metadata (RFC 8414)."""
    return JSONResponse(
        metadata.authorization_server(services.oauth), headers=_DISCOVERY_CACHE
    )


@router.get(endpoints.OPENID_CONFIGURATION, summary="Describe the OpenID provider")
async def openid_configuration(services: ServicesDep) -> JSONResponse:
    """OpenID Provider Metadata (OIDC Discovery §3)."""
    return JSONResponse(
        metadata.openid_configuration(services.oauth), headers=_DISCOVERY_CACHE
    )


@router.get(
    endpoints.PROTECTED_RESOURCE_METADATA,
    summary="Describe the API as a protected resource",
)
async def protected_resource_metadata(services: ServicesDep) -> JSONResponse:
    """Protected Resource Metadata (RFC 9728) of the API itself."""
    server = services.oauth
    return JSONResponse(
        metadata.protected_resource(server, server.resources.default),
        headers=_DISCOVERY_CACHE,
    )


@router.get(
    endpoints.PROTECTED_RESOURCE_METADATA + "/{path:path}",
    summary="Describe another protected resource",
    responses=failures(404),
)
async def protected_resource_metadata_for(
    path: str, services: ServicesDep
) -> JSONResponse:
    """RFC 9728 §3.1 metadata of another resource (the MCP server, an extra
    resource), at the well-known prefix followed by the resource's path."""
    server = services.oauth
    resource = server.resources.by_path(path)
    if resource is None:
        return JSONResponse(
            {"error": "not_found", "error_description": "No such protected resource."},
            status_code=404,
        )
    return JSONResponse(
        metadata.protected_resource(server, resource), headers=_DISCOVERY_CACHE
    )
