"""``/admin/keys``: the signing keys, current and retired, and rotation (the
same ``signing_keys.rotate`` as ``authgate admin rotate-keys``).

Only public facts are shown (kid, algorithm, dates); the sealed private halves
never leave the database.
"""

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import signing_keys
from authgate.util import clock
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.admin.gate import (
    AdminForm,
    AdminViewer,
    admin_transaction,
    console_page,
)
from authgate.web.pages.viewer import PageRoute

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

DONE = {
    "rotated": "New signing keys are in use. The old ones stay published until "
    "every token they signed has expired."
}


@router.get(paths.ADMIN_KEYS, response_model=None)
async def list_keys(
    request: Request, viewer: AdminViewer, services: ServicesDep
) -> Response:
    async with services.db.read() as tx:
        found = await tx.signing_keys.all()
    now = clock.now()
    keys = [
        {
            "kid": k.kid,
            "alg": k.alg,
            "created_at": k.created_at,
            "retired_at": k.retired_at,
            "published_until": signing_keys.published_until(k, services.keys.retention),
        }
        for k in found
    ]
    return console_page(
        viewer,
        "admin/keys.html",
        section="keys",
        current=[k for k in keys if k["retired_at"] is None],
        retired=[k for k in keys if k["retired_at"] is not None],
        now=now,
        done=DONE.get(request.query_params.get("done", "")),
    )


@router.post(f"{paths.ADMIN_KEYS}/rotate", response_model=None)
async def rotate_keys(
    viewer: AdminForm, services: ServicesDep, peer: PeerDep
) -> Response:
    async with admin_transaction(services, viewer) as tx:
        await signing_keys.rotate(
            tx, services.keys.cipher, actor_id=viewer.user.id, peer=peer
        )
    # This instance signs with the new keys at once (the other instances
    # reload theirs through the invalidation feed).
    await services.keys.load()
    return RedirectResponse(f"{paths.ADMIN_KEYS}?done=rotated", status_code=303)
