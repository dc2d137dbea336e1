"""``/device``: where a user enters a device's code and approves it (RFC 8628
§3.3, the ``verification_uri``).

The user signs in first; enters the code (any case, dash or not), sees which
client asks for what, and approves or denies. Every lookup of a code counts
against a limit per address and one per person, so user codes (34 bits)
cannot be guessed by brute force in their ten-minute life.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from authgate.domain import grants
from authgate.domain.grants import DeviceCode
from authgate.errors import AuthgateError
from authgate.oauth import client_auth
from authgate.oauth.server import DEVICE_PAGE
from authgate.server.principals import authentication
from authgate.server.services import Services
from authgate.web.authorization_server.asking import (
    AskingClient,
    asking_client,
    scope_lines,
)
from authgate.web.browser import (
    form_refused,
    form_token,
    login_redirect,
    reauth_redirect,
    signed_in,
)
from authgate.web.deps import (
    TOO_MANY,
    PeerDep,
    ServicesDep,
    first_party_shortfall,
    over_limit,
    retry_after,
)
from authgate.web.render import error_page, page

router = APIRouter(tags=["pages"], include_in_schema=False)

INVALID = "That code is not valid, or it has expired. Check your device and try again."


def _entry(
    user_code: str = "", error: str | None = None, status: int = 200
) -> Response:
    return page(
        "oauth/device.html",
        status=status,
        state="enter",
        user_code=user_code,
        error=error,
    )


async def _limited(
    services: Services, peer: PeerDep, user_code: str, user_id: str
) -> Response | None:
    """Count one code lookup against the address and against the person; the
    429 page when either has made too many. Per person too, since one account
    may guess from many addresses (RFC 8628 §5.1)."""
    per_minute = services.settings.user_code_rate_limit_per_minute
    wait = await over_limit(services, peer, "user-code", per_minute)
    if wait is None and services.settings.rate_limit_enabled:
        wait = await services.limiter.hit("user-code-person", user_id, per_minute)
    if wait is None:
        return None
    return retry_after(_entry(user_code, TOO_MANY, status=429), wait)


async def _pending(services: Services, user_code: str) -> DeviceCode | None:
    async with services.db.transaction() as tx:
        return await grants.pending_device(tx, user_code)


def unknown_client(client_id: str) -> AskingClient:
    """A device code outlives its client when the client is deleted, or its
    metadata document can no longer be fetched: say so, and warn."""
    return AskingClient(client_id, "no longer known to this server", unverified=True)


async def _confirm(
    request: Request, services: Services, device: DeviceCode, user_id: str
) -> Response:
    documents = await services.oauth.documents.prefetch(device.client_id)
    async with services.db.transaction() as tx:
        try:
            client = await client_auth.lookup(
                tx, services.oauth, documents, device.client_id
            )
        except AuthgateError:
            client = None
    user = await services.user(user_id)
    return page(
        "oauth/device.html",
        state="confirm",
        client=asking_client(client) if client else unknown_client(device.client_id),
        username=user.username if user else user_id,
        user_code=grants.format_user_code(
            grants.normalize_user_code(request.query_params.get("user_code", "")) or ""
        ),
        scopes=scope_lines(device.scope.split()),
        resources=device.resources,
        csrf_token=form_token(request, services),
    )


@router.get(DEVICE_PAGE, response_model=None)
async def device_page(
    request: Request, services: ServicesDep, peer: PeerDep
) -> Response:
    principal = signed_in(request)
    if principal is None or principal.user_id is None:
        return login_redirect(request)
    user_code = request.query_params.get("user_code", "").strip()[:32]
    if not user_code:
        return _entry()
    limited = await _limited(services, peer, user_code, principal.user_id)
    if limited is not None:
        return limited
    device = await _pending(services, user_code)
    if device is None:
        return _entry(user_code, INVALID, status=400)
    gap = await first_party_shortfall(services, device.client_id, principal)
    if gap is not None:
        here = f"{DEVICE_PAGE}?{urlencode({'user_code': user_code})}"
        return reauth_redirect(here, gap.level)
    return await _confirm(request, services, device, principal.user_id)


@router.post(DEVICE_PAGE, response_model=None)
async def device_decision(
    request: Request, services: ServicesDep, peer: PeerDep
) -> Response:
    principal = signed_in(request)
    if principal is None or principal.user_id is None:
        return error_page("Your session has ended; sign in and try again.", status=401)
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    refused = form_refused(request, services, fields.get("csrf_token", ""))
    if refused is not None:
        return refused
    decision = fields.get("decision")
    if decision not in ("approve", "deny"):
        return error_page("Choose Approve or Deny.")
    user_code = fields.get("user_code", "")[:32]
    limited = await _limited(services, peer, user_code, principal.user_id)
    if limited is not None:
        return limited
    pending = await _pending(services, user_code)
    if pending is not None and decision == "approve":
        gap = await first_party_shortfall(services, pending.client_id, principal)
        if gap is not None:
            here = f"{DEVICE_PAGE}?{urlencode({'user_code': user_code})}"
            return reauth_redirect(here, gap.level)
    async with services.db.transaction() as tx:
        device = await grants.pending_device(tx, user_code)
        decided = device is not None and await grants.decide_device(
            tx,
            device,
            user_id=principal.user_id,
            authentication=authentication(principal),
            approve=decision == "approve",
            peer=peer,
        )
    if not decided:
        return _entry(user_code, INVALID, status=400)
    approved = decision == "approve"
    return page(
        "oauth/device.html",
        state="done",
        heading="Device connected" if approved else "Request denied",
        message=(
            "You can return to your device; it is signed in now."
            if approved
            else "The device was not given access. You can close this page."
        ),
    )
