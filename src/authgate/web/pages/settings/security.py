"""``/settings/security``: the recovery key, which resets a forgotten password
on ``/forgot`` without an administrator.

Making one asks for the current password (a session left open is not
enough), replaces the previous key and shows the new one once; the rules are
the API's (``domain.recovery``), with its per-IP limit.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Response

from authgate.domain import recovery
from authgate.errors import AuthgateError, RateLimited
from authgate.web import paths
from authgate.web.deps import TOO_MANY, PeerDep, ServicesDep, over_limit, retry_after
from authgate.web.pages.settings.credentials import shown_once
from authgate.web.pages.viewer import (
    PageRoute,
    PageViewer,
    SteppedUpForm,
    Viewer,
    viewer_page,
)

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)


def _security(viewer: Viewer, error: str | None = None, status: int = 200) -> Response:
    return viewer_page(
        viewer, "settings/security.html", status=status, section="security", error=error
    )


@router.get(paths.SETTINGS_SECURITY, response_model=None)
async def security_page(viewer: PageViewer) -> Response:
    return _security(viewer)


@router.post(f"{paths.SETTINGS_SECURITY}/recovery-key", response_model=None)
async def new_recovery_key(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    wait = await over_limit(services, peer, "recovery-key")
    if wait is not None:
        return retry_after(_security(viewer, TOO_MANY, 429), wait)
    try:
        confirmed = await services.confirm_password(viewer.user, password, peer)
        async with services.db.transaction() as tx:
            key = await recovery.issue(
                tx, confirmed, prefix=services.settings.token_prefix, peer=peer
            )
    except RateLimited as exc:
        return retry_after(_security(viewer, exc.description, 429), exc.retry_after)
    except AuthgateError as exc:
        return _security(viewer, exc.description, exc.status)
    return shown_once(
        viewer,
        section="security",
        title="Recovery key created",
        what="Your recovery key",
        secret=key,
        back=paths.SETTINGS_SECURITY,
        back_label="Back to security",
    )
