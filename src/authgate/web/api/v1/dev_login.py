"""``POST /api/v1/auth/dev/login``: sign in as any username, no password.

Mounted only when ``authgate.upstream.dev_login.available`` (enabled, and
the server binds to loopback); each request must also come from loopback,
else it is answered exactly as a route that does not exist (404). The answer
is the password login's: the same body, the same cookies, from the same code.
"""

from fastapi import APIRouter, Request, Response

from authgate.errors import NotFound
from authgate.server import signin
from authgate.upstream import dev_login
from authgate.web.api.v1.auth import SignInTokens, Username, session_response
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.schemas import RequestBody

router = APIRouter(prefix="/auth/dev", tags=["auth"])


class DevLoginIn(RequestBody):
    username: Username


@router.post("/login", summary="Sign in as any user (development only)")
async def login(
    body: DevLoginIn,
    request: Request,
    services: ServicesDep,
    peer: PeerDep,
    response: Response,
) -> SignInTokens:
    """Development only: sign in as ``username``, made on first use."""
    if not dev_login.allows(services.settings, peer.ip, request.headers):
        raise NotFound("Not found.")
    opened = await signin.as_developer(services, peer, body.username)
    return session_response(services, opened, response)
