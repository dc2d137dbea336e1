"""``/oauth/authorize``: the authorization endpoint's page (RFC 6749 §4.1.1).

GET validates the request (``authgate.oauth.authorize``), sends a visitor who
is not signed in to ``/login`` and back, skips the page when the user already
approved this client for these scopes and resources, and otherwise shows what
the client asks for with Approve and Deny. The form posts the request back in
full, so approval re-validates everything, plus the session-bound CSRF token;
the answer is a 303 to the client's redirect URI.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import factors
from authgate.guard import Principal
from authgate.oauth import authorize
from authgate.oauth.authorize import AuthorizationRequest, AuthorizeError
from authgate.oauth.errors import LoginRequired
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import AUTHORIZE
from authgate.server.principals import authentication
from authgate.server.services import Services
from authgate.util import clock
from authgate.web.authorization_server.asking import asking_client, scope_lines
from authgate.web.browser import (
    form_refused,
    form_token,
    login_redirect,
    reauth_redirect,
    signed_in,
)
from authgate.web.deps import PeerDep, ServicesDep, first_party_shortfall
from authgate.web.render import error_page, origin_of, page

router = APIRouter(tags=["pages"], include_in_schema=False)


def _first(request: OAuthRequest, name: str) -> str | None:
    values = request.params.get(name, ())
    return values[0] if values else None


def _refused(error: AuthorizeError) -> Response:
    if error.redirect_to is not None:
        return RedirectResponse(error.redirect_to, status_code=303)
    return error_page(error.error.description, code=error.error.code)


async def _consent_page(
    request: Request, services: Services, req: AuthorizationRequest, user_id: str
) -> Response:
    user = await services.user(user_id)
    client = req.client
    target = origin_of(req.redirect_uri)
    return page(
        "oauth/consent.html",
        form_targets=[target] if target else [],
        client=asking_client(client),
        username=user.username if user else user_id,
        scopes=scope_lines(req.scopes),
        resources=req.resources,
        redirect_uri=req.redirect_uri,
        action=AUTHORIZE,
        csrf_token=form_token(request, services),
        fields=req.form_fields(),
    )


def _continuation(request: Request) -> str:
    """This request, to come back to once signed in (again), without what the
    sign-in answers (``authorize.continuation``)."""
    pairs = authorize.continuation(list(request.query_params.multi_items()))
    return f"{AUTHORIZE}?{urlencode(pairs)}"


async def _reauthentication(
    services: Services,
    req: AuthorizationRequest,
    principal: Principal,
    request: Request,
) -> Response | None:
    """The answer when the signed-in person must prove who they are again
    (``prompt=login``, ``max_age``, ``acr_values``); ``None`` to go on.
    Single-user mode's owner has no sign-in to renew."""
    proof = authentication(principal)
    if proof is None or principal.user_id is None:
        return None
    gap = await first_party_shortfall(services, req.client.id, principal)
    if gap is not None:
        if "none" in req.prompt:
            target = authorize.error_redirect(
                services.oauth, req.redirect_uri, req.state, LoginRequired()
            )
            return RedirectResponse(target, status_code=303)
        return reauth_redirect(_continuation(request), gap.level)
    async with services.db.read() as tx:
        factor = await factors.has_factor(tx, principal.user_id)
    needed = authorize.authentication_needed(
        services.oauth, req, proof, has_factor=factor, now=clock.now()
    )
    if needed is None:
        return None
    if isinstance(needed, str):
        return RedirectResponse(needed, status_code=303)
    return reauth_redirect(_continuation(request), needed.level)


@router.get(AUTHORIZE, response_model=None)
async def authorize_page(
    request: Request, services: ServicesDep, peer: PeerDep
) -> Response:
    oauth_request = OAuthRequest.from_pairs(
        request.query_params.multi_items(), peer=peer
    )
    server = services.oauth
    documents = await server.documents.prefetch(_first(oauth_request, "client_id"))
    principal = signed_in(request)
    async with services.db.transaction() as tx:
        try:
            req = await authorize.validate(tx, server, oauth_request, documents)
        except AuthorizeError as exc:
            return _refused(exc)
    if principal is None or principal.user_id is None:
        target = authorize.login_required(server, req)
        return (
            RedirectResponse(target, status_code=303)
            if target
            else login_redirect(request, _continuation(request))
        )
    again = await _reauthentication(services, req, principal, request)
    if again is not None:
        return again
    async with services.db.transaction() as tx:
        target = await authorize.without_consent_page(
            tx,
            server,
            req,
            user_id=principal.user_id,
            authentication=authentication(principal),
            peer=peer,
        )
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return await _consent_page(request, services, req, principal.user_id)


@router.post(AUTHORIZE, response_model=None)
async def authorize_decision(
    request: Request, services: ServicesDep, peer: PeerDep
) -> Response:
    principal = signed_in(request)
    if principal is None or principal.user_id is None:
        return error_page("Your session has ended; sign in and try again.", status=401)
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    fields = dict(pairs)
    refused = form_refused(request, services, fields.get("csrf_token", ""))
    if refused is not None:
        return refused
    decision = fields.get("decision")
    if decision not in ("approve", "deny"):
        return error_page("Choose Approve or Deny.")
    oauth_request = OAuthRequest.from_pairs(
        [(k, v) for k, v in pairs if k in authorize.FORWARDED], peer=peer
    )
    server = services.oauth
    documents = await server.documents.prefetch(_first(oauth_request, "client_id"))
    async with services.db.transaction() as tx:
        try:
            req = await authorize.validate(tx, server, oauth_request, documents)
        except AuthorizeError as exc:
            return _refused(exc)
        if decision == "approve":
            target = await authorize.approve(
                tx,
                server,
                req,
                user_id=principal.user_id,
                authentication=authentication(principal),
                peer=peer,
            )
        else:
            target = await authorize.deny(
                tx, server, req, user_id=principal.user_id, peer=peer
            )
    return RedirectResponse(target, status_code=303)
