"""``/settings/…``: a signed-in person's own account, one module per section
(profile, sessions, authorized apps, tokens, keys, security and its
passkeys; organizations
live beside them).
Every section renders through ``viewer.viewer_page`` into
``templates/settings/layout.html``, which draws the section navigation."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from authgate.web import paths
from authgate.web.pages.settings import (
    api_keys,
    apps,
    passkeys,
    profile,
    security,
    sessions,
    tokens,
)

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get(paths.SETTINGS, response_model=None)
async def settings_home() -> RedirectResponse:
    return RedirectResponse(paths.SETTINGS_PROFILE, status_code=303)


for section in (profile, sessions, apps, tokens, api_keys, security, passkeys):
    router.include_router(section.router)
