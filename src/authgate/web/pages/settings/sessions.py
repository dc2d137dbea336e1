"""``/settings/sessions``: where the person is signed in (browsers, and OAuth
logins such as the CLI's, by the client's name), and signing out elsewhere:
one session or app, or every one but this session.

A revoked session is refused on its very next request (the cached
verification is evicted with the revocation), so that browser's next click
lands on ``/login``.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import RedirectResponse

from authgate.domain import sessions
from authgate.errors import NotFound
from authgate.web import paths, session_cookies
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.viewer import FormViewer, PageRoute, PageViewer, viewer_page
from authgate.web.render import error_page

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

SessionId = Annotated[str, Path(max_length=64)]


@router.get(paths.SETTINGS_SESSIONS, response_model=None)
async def sessions_page(viewer: PageViewer, services: ServicesDep) -> Response:
    async with services.db.read() as tx:
        found = await sessions.live_for_user(
            tx, services.session_policy, viewer.user.id
        )
        apps = await sessions.app_logins(tx, viewer.user.id)
    rows = [
        {
            "id": s.id,
            "device": s.device,
            "ip": s.ip,
            "location": services.geo.locate(s.ip),
            "last_active_at": s.last_active_at,
            "created_at": s.created_at,
            "current": s.id == viewer.principal.session_id,
        }
        for s in found
    ] + [
        {
            "id": a.id,
            "device": a.device,
            "ip": None,
            "location": None,
            "last_active_at": a.last_active_at,
            "created_at": a.created_at,
            "current": False,
        }
        for a in apps
    ]
    return viewer_page(
        viewer,
        "settings/sessions.html",
        section="sessions",
        rows=rows,
        others=any(not r["current"] for r in rows),
    )


@router.post(f"{paths.SETTINGS_SESSIONS}/{{session_id}}/revoke", response_model=None)
async def revoke_session(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    session_id: SessionId,
) -> Response:
    try:
        async with services.db.transaction() as tx:
            await sessions.end_login(
                tx,
                session_id,
                user_id=viewer.user.id,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
            )
    except NotFound as exc:
        return error_page(exc.description, status=404)
    if session_id == viewer.principal.session_id:
        response = RedirectResponse(paths.LOGIN, status_code=303)
        session_cookies.clear(response, services.settings)
        return response
    return RedirectResponse(paths.SETTINGS_SESSIONS, status_code=303)


@router.post(f"{paths.SETTINGS_SESSIONS}/revoke-others", response_model=None)
async def revoke_others(
    viewer: FormViewer, services: ServicesDep, peer: PeerDep
) -> Response:
    async with services.db.transaction() as tx:
        await sessions.end_logins(
            tx,
            viewer.user.id,
            keep=viewer.principal.session_id,
            reason="revoke_others",
            actor_id=viewer.user.id,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    return RedirectResponse(paths.SETTINGS_SESSIONS, status_code=303)
