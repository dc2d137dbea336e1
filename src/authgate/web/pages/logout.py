"""``POST /logout``: the header's Sign out button.

It ends the session (its refresh tokens die with it: a refresh needs a live
session), clears the cookies and lands on ``/login``. A form from another
site cannot sign anyone out: the form token is checked as on every page.
"""

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import sessions
from authgate.web import paths, session_cookies
from authgate.web.browser import signed_in
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.viewer import CsrfField, Viewer, form_viewer
from authgate.web.security import SESSION_COOKIE, read_cookie

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post(paths.LOGOUT, response_model=None)
async def logout(
    request: Request, services: ServicesDep, peer: PeerDep, csrf_token: CsrfField = ""
) -> Response:
    if signed_in(request) is not None:
        viewer = await form_viewer(request, services, csrf_token)
        if not isinstance(viewer, Viewer):
            return viewer  # a form from elsewhere: refused, still signed in
        async with services.db.transaction() as tx:
            await sessions.sign_out(
                tx,
                session_id=viewer.principal.session_id,
                session_token=read_cookie(request, services.settings, SESSION_COOKIE),
                refresh_token=None,
                peer=peer,
            )
    # Signed out already (or the session ended): only the cookies are left.
    response = RedirectResponse(paths.LOGIN, status_code=303)
    session_cookies.clear(response, services.settings)
    return response
