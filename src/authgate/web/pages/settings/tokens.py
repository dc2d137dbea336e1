"""``/settings/tokens``: personal access tokens for scripts and CI.

Creating one shows its secret once, on the answer to the form (never in a
URL, never again); only its hash is kept. Revoking asks for confirmation on
a page of its own, so it works without JavaScript. The rules are the API's
(``domain.personal_tokens``, ``domain.credentials``).
"""

from typing import Annotated

from fastapi import APIRouter, Form, Response

from authgate.domain import credentials, personal_tokens
from authgate.errors import AuthgateError
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.settings.credentials import CredentialPage, ceiling
from authgate.web.pages.viewer import (
    PageRoute,
    PageViewer,
    SteppedUpForm,
    Viewer,
    viewer_page,
)

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

PAGE = CredentialPage(
    kind="pat",
    path=paths.SETTINGS_TOKENS,
    section="tokens",
    back_label="Back to access tokens",
    missing="No such token.",
    revoke_title="Revoke access token",
    consequence="Scripts and CI jobs using it stop working at once.",
)
DEFAULT_DAYS = 30


def parse_days(raw: str, max_days: int) -> int:
    """A form's day count, or the reason it is not one."""
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= max_days:
        raise ValueError(f"Expiry must be a whole number of days from 1 to {max_days}.")
    return int(text)


async def _list(
    viewer: Viewer,
    services: Services,
    *,
    values: dict[str, object] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with services.db.read() as tx:
        found = await tx.credentials.list_for_user(viewer.user.id, "pat")
    max_days = services.settings.pat_max_days
    givable = ceiling(services, viewer).scopes
    return viewer_page(
        viewer,
        "settings/tokens.html",
        status=status,
        section="tokens",
        tokens=found,
        scopes=[s for s in personal_tokens.SCOPES if s in givable],
        max_days=max_days,
        values=values
        or {
            "name": "",
            "days": str(min(DEFAULT_DAYS, max_days)),
            "scopes": personal_tokens.DEFAULT_SCOPES,
        },
        error=error,
    )


@router.get(paths.SETTINGS_TOKENS, response_model=None)
async def tokens_page(viewer: PageViewer, services: ServicesDep) -> Response:
    return await _list(viewer, services)


@router.post(paths.SETTINGS_TOKENS, response_model=None)
async def create_token(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    name: Annotated[str, Form(max_length=credentials.NAME_MAX * 2)] = "",
    expires_in_days: Annotated[str, Form(max_length=8)] = "",
    scopes: Annotated[list[str], Form(max_length=len(personal_tokens.SCOPES))] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    values: dict[str, object] = {
        "name": name,
        "days": expires_in_days,
        "scopes": scopes,
    }
    max_days = services.settings.pat_max_days
    try:
        days = parse_days(expires_in_days, max_days)
        async with services.db.transaction() as tx:
            token, secret = await personal_tokens.create(
                tx,
                prefix=services.settings.token_prefix,
                user_id=viewer.user.id,
                name=name,
                expires_in_days=days,
                max_days=max_days,
                scopes=scopes,
                org_id=None,
                peer=peer,
                parent=ceiling(services, viewer),
            )
    except ValueError as exc:
        return await _list(viewer, services, values=values, error=str(exc), status=400)
    except AuthgateError as exc:
        return await _list(
            viewer, services, values=values, error=exc.description, status=exc.status
        )
    return PAGE.created(
        viewer,
        title="Token created",
        what=f"Your new token “{token.name}”",
        secret=secret,
    )


PAGE.add_revoke_routes(router)
