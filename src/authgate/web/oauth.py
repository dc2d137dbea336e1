"""``/oauth/*`` and ``/.well-known/*``: the one HTTP adapter onto ``authgate.oauth``.

Each endpoint parses its body itself (form-encoded, as RFC 6749 §3.2 requires;
JSON for RFC 7591 registration), so a malformed request is answered in OAuth's
error shape, never FastAPI's. Client metadata documents are fetched before the
transaction opens; the handler then runs in one transaction, which commits
even when the answer is an error (see ``authgate.oauth``).
"""

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

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
from authgate.oauth.errors import InvalidRequest, InvalidToken, OAuthError
from authgate.oauth.requests import OAuthRequest, OAuthResponse
from authgate.web.deps import ServicesDep, get_client
from authgate.web.services import Services

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
        client=await get_client(request),
    )


async def _documents(services: Services, request: OAuthRequest) -> Documents:
    return await services.oauth.documents.prefetch(
        client_auth.claimed_client_id(request)
    )


async def _client_endpoint(request: Request, services: Services, handler: Any) -> Any:
    """Form in, one transaction around ``handler``, OAuth JSON out."""
    try:
        oauth_request = await read_form(request)
    except OAuthError as exc:
        return render(OAuthResponse.error(exc))
    documents = await _documents(services, oauth_request)
    async with services.db.transaction() as tx:
        answer: OAuthResponse = await handler(
            tx, services.oauth, oauth_request, documents
        )
    return render(answer)


@router.post(endpoints.TOKEN, response_model=None)
async def token_endpoint(request: Request, services: ServicesDep) -> Response:
    """Token endpoint (RFC 6749 §3.2): authorization_code, refresh_token,
    client_credentials and device_code grants."""
    response: Response = await _client_endpoint(request, services, token.handle)
    if response.status_code == 200:
        # Counted after the commit; the form was parsed (and kept) above.
        grant_type = (await request.form()).get("grant_type")
        if isinstance(grant_type, str):
            services.metrics.token_issued(grant_type)
    return response


@router.post(endpoints.DEVICE_AUTHORIZATION, response_model=None)
async def device_authorization(request: Request, services: ServicesDep) -> Response:
    """Device authorization endpoint (RFC 8628 §3.1)."""
    response: Response = await _client_endpoint(request, services, device.authorize)
    return response


@router.post(endpoints.REVOKE, response_model=None)
async def revoke(request: Request, services: ServicesDep) -> Response:
    """Token revocation (RFC 7009)."""
    response: Response = await _client_endpoint(request, services, revocation.revoke)
    return response


@router.post(endpoints.INTROSPECT, response_model=None)
async def introspect(request: Request, services: ServicesDep) -> Response:
    """Token introspection (RFC 7662), for confidential clients."""
    response: Response = await _client_endpoint(
        request, services, introspection.introspect
    )
    return response


@router.post(endpoints.REGISTER, response_model=None)
async def register(request: Request, services: ServicesDep) -> Response:
    """Dynamic client registration (RFC 7591); an administrator's bearer token
    registers any client, anyone else what open registration allows."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return render(OAuthResponse.error(InvalidRequest("The body is not JSON.")))
    principal = getattr(request.state, "principal", None)
    admin = (
        principal is not None
        and request.state.auth_transport == "bearer"
        and principal.is_admin
        and principal.user_id is not None
    )
    async with services.db.transaction() as tx:
        answer = await registration.register(
            tx,
            services.oauth,
            body,
            admin_id=principal.user_id if admin and principal else None,
            client=await get_client(request),
        )
    return render(answer)


# One route per method: a route with both gives /openapi.json one operation id
# twice (a warning, an error under pytest).
@router.get(endpoints.USERINFO, response_model=None, operation_id="userinfo_get")
@router.post(endpoints.USERINFO, response_model=None, operation_id="userinfo_post")
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
    except OAuthError as exc:
        return render(OAuthResponse.error(exc))
    return JSONResponse(claims, headers={"Cache-Control": "no-store"})


@router.get("/oauth/jwks")
async def jwks(services: ServicesDep, response: Response) -> dict[str, Any]:
    """Published signing keys (RFC 7517): current ones and retired ones whose
    tokens may still be alive."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return services.keys.ring.jwks()


@router.get(endpoints.AUTHORIZATION_SERVER_METADATA)
async def authorization_server_metadata(services: ServicesDep) -> JSONResponse:
    """Authorization Server Metadata (RFC 8414)."""
    return JSONResponse(
        metadata.authorization_server(services.oauth), headers=_DISCOVERY_CACHE
    )


@router.get(endpoints.OPENID_CONFIGURATION)
async def openid_configuration(services: ServicesDep) -> JSONResponse:
    """OpenID Provider Metadata (OIDC Discovery §3)."""
    return JSONResponse(
        metadata.openid_configuration(services.oauth), headers=_DISCOVERY_CACHE
    )


@router.get(endpoints.PROTECTED_RESOURCE_METADATA)
async def protected_resource_metadata(services: ServicesDep) -> JSONResponse:
    """Protected Resource Metadata (RFC 9728) of the API itself."""
    server = services.oauth
    return JSONResponse(
        metadata.protected_resource(server, server.resources.default),
        headers=_DISCOVERY_CACHE,
    )


@router.get(endpoints.PROTECTED_RESOURCE_METADATA + "/{path:path}")
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
