"""The caller's own sessions: ``/api/v1/sessions``."""

from datetime import datetime

from fastapi import APIRouter, Response, status

from authgate.domain import sessions
from authgate.web import session_cookies
from authgate.web.api.v1.personal_tokens import CredentialId
from authgate.web.deps import Caller, ManagesAccount, PeerDep, ServicesDep
from authgate.web.schemas import Page, ResponseBody, failures

router = APIRouter(prefix="/sessions", tags=["sessions"])


class SessionOut(ResponseBody):
    id: str
    device: str
    ip: str | None
    location: str | None
    created_at: datetime
    last_active_at: datetime
    current: bool


class Revoked(ResponseBody):
    revoked: int


@router.get("", summary="List your sessions and OAuth logins")
async def list_sessions(caller: Caller, services: ServicesDep) -> Page[SessionOut]:
    """Browser and API sign-ins, then OAuth logins (the CLI's, apps'), whose
    device is the client's name."""
    user_id = caller.user_id or ""
    async with services.db.read() as tx:
        found = await sessions.live_for_user(tx, services.session_policy, user_id)
        apps = await sessions.app_logins(tx, user_id)
    return Page(
        items=[
            *(
                SessionOut(
                    id=s.id,
                    device=s.device,
                    ip=s.ip,
                    location=services.geo.locate(s.ip),
                    created_at=s.created_at,
                    last_active_at=s.last_active_at,
                    current=s.id == caller.session_id,
                )
                for s in found
            ),
            *(
                SessionOut(
                    id=a.id,
                    device=a.device,
                    ip=None,
                    location=None,
                    created_at=a.created_at,
                    last_active_at=a.last_active_at,
                    current=False,
                )
                for a in apps
            ),
        ]
    )


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End a session or an OAuth login",
    responses=failures(404),
)
async def revoke_session(
    session_id: CredentialId,
    caller: ManagesAccount,
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    """End a session, or an OAuth login with its refresh and access tokens."""
    async with services.db.transaction() as tx:
        await sessions.end_login(
            tx,
            session_id,
            user_id=caller.user_id or "",
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if session_id == caller.session_id:
        session_cookies.clear(response, services.settings)
    return response


@router.post("/revoke-all", summary="End every session and OAuth login")
async def revoke_all_sessions(
    caller: ManagesAccount, services: ServicesDep, peer: PeerDep, response: Response
) -> Revoked:
    """Ends every login of the caller, this one included: sessions with their
    refresh tokens, and every OAuth grant (refresh and access tokens)."""
    async with services.db.transaction() as tx:
        ended = await sessions.end_logins(
            tx,
            caller.user_id or "",
            reason="revoke_all",
            actor_id=caller.subject,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    session_cookies.clear(response, services.settings)
    return Revoked(revoked=len(ended.sessions) + len(ended.grants))
