"""``/oauth/end_session``: the end-session endpoint's pages (OpenID Connect
RP-Initiated Logout 1.0 §2-3).

The client's request (GET, or a form POST) is checked by
``authgate.oauth.end_session``; a bad one is shown to the person, never
redirected. A signed-in person is asked to confirm (a CSRF-protected form
that posts the request back, so the answer re-validates it); confirmed, the
browser's session ends (``sessions.sign_out``), its cookies are cleared, and
the browser goes to the client's registered ``post_logout_redirect_uri`` with
``state``, or sees the signed-out page. Nobody signed in: nothing to end, so
straight on.
"""

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import sessions
from authgate.errors import AuthgateError
from authgate.oauth import end_session
from authgate.oauth.end_session import LogoutRequest
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import END_SESSION
from authgate.server.services import Services
from authgate.web import session_cookies
from authgate.web.browser import form_refused, form_token, signed_in
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.render import error_page, origin_of, page
from authgate.web.security import SESSION_COOKIE, read_cookie

router = APIRouter(tags=["pages"], include_in_schema=False)


async def _pairs(request: Request) -> list[tuple[str, str]]:
    if request.method == "GET":
        return list(request.query_params.multi_items())
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _signed_out(response: Response, services: Services) -> Response:
    session_cookies.clear(response, services.settings)
    return response


def _onward(logout: LogoutRequest) -> Response:
    after = logout.after()
    if after is None:
        return page("oauth/end_session.html", done=True)
    return RedirectResponse(after, status_code=303)


# One route per method: a route with both gives /openapi.json one operation id
# twice (a warning, an error under pytest).
@router.get(END_SESSION, response_model=None, operation_id="end_session_get")
@router.post(END_SESSION, response_model=None, operation_id="end_session_post")
async def end_session_page(
    request: Request, services: ServicesDep, peer: PeerDep
) -> Response:
    pairs = await _pairs(request)
    oauth_request = OAuthRequest.from_pairs(
        [(k, v) for k, v in pairs if k in end_session.FORWARDED], peer=peer
    )
    server = services.oauth
    try:
        client_id = oauth_request.get("client_id")
        documents = await server.documents.prefetch(client_id)
        async with services.db.read() as tx:
            logout = await end_session.validate(tx, server, oauth_request, documents)
    except AuthgateError as exc:
        return error_page(exc.description, code=exc.code)
    principal = signed_in(request)
    if principal is None or principal.session_id is None:
        # Nobody (or single-user mode's owner, who has no session) to sign out.
        return _signed_out(_onward(logout), services)
    fields = dict(pairs)
    if request.method == "POST" and fields.get("confirm") == "yes":
        refused = form_refused(request, services, fields.get("csrf_token", ""))
        if refused is not None:
            return refused
        async with services.db.transaction() as tx:
            await sessions.sign_out(
                tx,
                session_id=principal.session_id,
                session_token=read_cookie(request, services.settings, SESSION_COOKIE),
                refresh_token=None,
                peer=peer,
            )
        return _signed_out(_onward(logout), services)
    user = await services.user(principal.user_id or "")
    target = origin_of(logout.redirect_uri) if logout.redirect_uri else None
    return page(
        "oauth/end_session.html",
        form_targets=[target] if target else [],
        done=False,
        client_name=logout.client.name if logout.client else None,
        username=user.username if user else None,
        redirect_uri=logout.redirect_uri,
        action=END_SESSION,
        csrf_token=form_token(request, services),
        fields=logout.form_fields(oauth_request),
    )
