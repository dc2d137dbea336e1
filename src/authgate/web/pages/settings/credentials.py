"""What the access token and API key pages share: a new secret is shown once,
on the answer to the form that made it (never in a URL, never again: only its
hash is kept), and revoking asks for confirmation on a page of its own, so it
works without JavaScript. Each page names its kind of credential and its
words in a :class:`CredentialPage`; the rules are ``domain.credentials``'.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from authgate.domain import authority, credentials
from authgate.errors import NotFound
from authgate.server.principals import holder
from authgate.server.services import Services
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.viewer import FormViewer, PageViewer, Viewer, viewer_page
from authgate.web.render import error_page

CredentialId = Annotated[str, Path(max_length=64)]


def ceiling(services: Services, viewer: Viewer) -> credentials.Parent:
    """What the viewer's new token or key may hold: the API's rule
    (``authority.parent``), for a person signed in here."""
    return authority.parent(holder(services.settings, viewer.principal, viewer.user))


def shown_once(
    viewer: Viewer,
    *,
    section: str,
    title: str,
    what: str,
    secret: str,
    back: str,
    back_label: str,
) -> HTMLResponse:
    """The one time a new secret is shown; its Copy button is ``/static/copy.js``
    (without script, the value is selected by hand)."""
    return viewer_page(
        viewer,
        "settings/secret.html",
        scripts=True,
        section=section,
        title=title,
        what=what,
        secret=secret,
        back=back,
        back_label=back_label,
    )


@dataclass(frozen=True, slots=True)
class CredentialPage:
    """One Settings page of credentials of one ``kind`` (``pat``, ``key``),
    at ``path``, and the words its pages use."""

    kind: credentials.CredentialKind
    path: str
    section: str
    back_label: str
    #: The 404 page's words for an id that names none of the viewer's.
    missing: str
    revoke_title: str
    #: What revoking breaks, on the confirmation page.
    consequence: str

    def created(
        self, viewer: Viewer, *, title: str, what: str, secret: str
    ) -> Response:
        return shown_once(
            viewer,
            section=self.section,
            title=title,
            what=what,
            secret=secret,
            back=self.path,
            back_label=self.back_label,
        )

    def add_revoke_routes(self, router: APIRouter) -> None:
        """``GET {path}/{id}/revoke``, the confirmation, and ``POST`` to it,
        the revocation, on ``router`` (a ``viewer.PageRoute`` router)."""

        @router.get(f"{self.path}/{{credential_id}}/revoke", response_model=None)
        async def confirm_revoke(
            viewer: PageViewer, services: ServicesDep, credential_id: CredentialId
        ) -> Response:
            async with services.db.read() as tx:
                found = await tx.credentials.get(credential_id)
            if (
                found is None
                or found.kind != self.kind
                or found.user_id != viewer.user.id
            ):
                return error_page(self.missing, status=404)
            return viewer_page(
                viewer,
                "settings/revoke.html",
                section=self.section,
                title=self.revoke_title,
                name=found.name,
                display_prefix=found.display_prefix,
                consequence=self.consequence,
                action=f"{self.path}/{found.id}/revoke",
                back=self.path,
            )

        @router.post(f"{self.path}/{{credential_id}}/revoke", response_model=None)
        async def revoke(
            viewer: FormViewer,
            services: ServicesDep,
            peer: PeerDep,
            credential_id: CredentialId,
        ) -> Response:
            try:
                async with services.db.transaction() as tx:
                    await credentials.revoke(
                        tx,
                        credential_id,
                        kind=self.kind,
                        user_id=viewer.user.id,
                        peer=peer,
                    )
            except NotFound as exc:
                return error_page(exc.description, status=404)
            return RedirectResponse(self.path, status_code=303)
