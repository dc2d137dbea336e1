"""``/settings/orgs``: a person's organizations, their members and invites,
and the page an org invite's link opens (``/settings/orgs/accept?code=…``).

Every change goes through the same domain functions as ``/api/v1/orgs``,
which check the permission table (``domain.permissions``), so a control the
page hides from a role is refused with the 403 page when its form is forged
anyway. Refusals a person can act on (the last owner, a taken slug, a bad
address) come back inline on the page the form was on.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Response
from fastapi.responses import RedirectResponse

from authgate.domain import orgs
from authgate.domain.invites import Invite
from authgate.domain.permissions import Action, Role, allowed
from authgate.domain.stores import Stores
from authgate.errors import AuthgateError, Conflict, Forbidden, InvalidRequest
from authgate.server import org_context
from authgate.server.mailing import mailing
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.viewer import (
    FormViewer,
    PageRoute,
    PageViewer,
    Viewer,
    viewer_page,
)
from authgate.web.render import error_page

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

#: Generous bounds: anything within them reaches the domain, whose refusal
#: is shown inline in plain words (the inputs carry the real limits).
Text = Annotated[str, Form(max_length=1024)]
#: An org (id or slug), a member's user id or an invite id in the path.
Ref = Annotated[str, Path(max_length=64)]
#: Refusals shown next to the form that caused them rather than on an error page.
_INLINE = (InvalidRequest, Conflict)


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member as the viewer sees them: which controls their row offers."""

    member: orgs.Member
    is_viewer: bool
    can_change_role: bool
    can_remove: bool


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _org_url(org: orgs.Org) -> str:
    return f"{paths.SETTINGS_ORGS}/{org.slug}"


def _rows(role: str, viewer_id: str, members: list[orgs.Member]) -> list[MemberRow]:
    """Only an owner touches an owner (``require_owner_for``), so an admin's
    row for an owner offers nothing."""

    def may(action: Action, target: str) -> bool:
        return allowed(role, action) and (target != Role.OWNER or role == Role.OWNER)

    return [
        MemberRow(
            member=m,
            is_viewer=m.user_id == viewer_id,
            can_change_role=may(Action.CHANGE_ROLE, m.role),
            can_remove=m.user_id != viewer_id and may(Action.REMOVE_MEMBER, m.role),
        )
        for m in members
    ]


def _grantable(role: str) -> list[str]:
    return [r.value for r in Role if r != Role.OWNER or role == Role.OWNER]


# -- the list: /settings/orgs


async def _list_page(
    services: Services,
    viewer: Viewer,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    async with services.db.read() as tx:
        memberships = await tx.orgs.memberships(viewer.user.id)
        user = await tx.users.get(viewer.user.id)
    return viewer_page(
        viewer,
        "settings/orgs/list.html",
        status=status,
        section="orgs",
        memberships=memberships,
        default_org_id=user.default_org_id if user else None,
        error=error,
        form=form or {"name": "", "slug": ""},
        name_max=orgs.NAME_MAX,
    )


@router.get(paths.SETTINGS_ORGS, response_model=None)
async def list_orgs(viewer: PageViewer, services: ServicesDep) -> Response:
    return await _list_page(services, viewer)


@router.post(paths.SETTINGS_ORGS, response_model=None)
async def create_org(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    name: Text = "",
    slug: Text = "",
) -> Response:
    try:
        async with services.db.transaction() as tx:
            created = await orgs.create(
                tx,
                user_id=viewer.user.id,
                name=name,
                slug=slug.strip() or None,
                peer=peer,
            )
    except _INLINE as exc:
        return await _list_page(
            services,
            viewer,
            status=exc.status,
            error=exc.description,
            form={"name": name, "slug": slug},
        )
    return RedirectResponse(_org_url(created.org), status_code=303)


@router.post(f"{paths.SETTINGS_ORGS}/default", response_model=None)
async def choose_default(
    viewer: FormViewer,
    services: ServicesDep,
    org: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        async with services.db.transaction() as tx:
            await orgs.set_default(tx, viewer.user.id, org or None)
    except AuthgateError as exc:
        return error_page(exc.description, status=exc.status)
    return RedirectResponse(paths.SETTINGS_ORGS, status_code=303)


# -- an invite's link: /settings/orgs/accept (before /{org}, which would take it)


def _invite_page(
    viewer: Viewer, state: str, *, status: int = 200, **context: Any
) -> Response:
    return viewer_page(
        viewer,
        "settings/orgs/accept.html",
        status=status,
        section="orgs",
        state=state,
        **context,
    )


@router.get(paths.ORG_INVITE_ACCEPT, response_model=None)
async def invite_answer_page(
    # Signed out, the person signs in and comes back here, code and all.
    viewer: PageViewer,
    services: ServicesDep,
    code: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    try:
        async with services.db.read() as tx:
            invite, org = await orgs.invite_for(tx, code, user=viewer.user)
    except Forbidden as exc:
        return _invite_page(viewer, "refused", status=403, message=exc.description)
    return _invite_page(
        viewer,
        "ask",
        org=org,
        role=invite.role,
        code=code,
        expires=_when(invite.expires_at),
    )


@router.post(paths.ORG_INVITE_ACCEPT, response_model=None)
async def answer_invite(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    code: Annotated[str, Form(max_length=256)] = "",
    decision: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    if decision not in ("accept", "decline"):
        return error_page("Choose Accept or Decline.")
    answer = orgs.decline if decision == "decline" else orgs.accept
    try:
        async with services.db.transaction() as tx:
            answered = await answer(tx, code, user=viewer.user, peer=peer)
    except AuthgateError as exc:
        return _invite_page(
            viewer, "refused", status=exc.status, message=exc.description
        )
    if isinstance(answered, orgs.Membership):
        return RedirectResponse(_org_url(answered.org), status_code=303)
    return _invite_page(viewer, "declined", org=answered)


# -- one organization: /settings/orgs/{org}


async def _org_page(
    services: Services,
    viewer: Viewer,
    ref: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    invite_form: dict[str, str] | None = None,
    created: tuple[Invite, str] | None = None,
) -> Response:
    try:
        async with services.db.read() as tx:
            membership = await org_context.access(tx, ref, viewer.principal)
            members = await orgs.members(tx, membership)
            may_invite = allowed(membership.role, Action.INVITE)
            found = await orgs.invites_of(tx, membership) if may_invite else []
    except AuthgateError as exc:
        return error_page(exc.description, status=exc.status)
    role = membership.role
    return viewer_page(
        viewer,
        "settings/orgs/org.html",
        status=status,
        scripts=created is not None,  # the Copy buttons
        section="orgs",
        org=membership.org,
        role=role,
        rows=_rows(role, viewer.user.id, members),
        roles=_grantable(role),
        may_invite=may_invite,
        may_require_mfa=allowed(role, Action.REQUIRE_MFA),
        pending=[(i, _when(i.expires_at)) for i in found if i.status == "unused"],
        errors=errors or {},
        invite_form=invite_form or {"email": "", "role": Role.MEMBER.value},
        created=(
            {
                "email": created[0].email,
                "role": created[0].role,
                "code": created[1],
                "url": paths.invite_url(services.settings, created[1]),
                "expires": _when(created[0].expires_at),
            }
            if created
            else None
        ),
    )


@router.get(f"{paths.SETTINGS_ORGS}/{{org}}", response_model=None)
async def org_page(viewer: PageViewer, services: ServicesDep, org: Ref) -> Response:
    return await _org_page(services, viewer, org)


Change = Callable[[Stores, orgs.Membership], Awaitable[object]]


async def _change(
    services: Services,
    viewer: Viewer,
    ref: str,
    change: Change,
    *,
    place: str,
    then: str | None = None,
) -> Response:
    """One change in one transaction, then back to the org page (or ``then``).
    A refusal the person can act on is shown at ``place`` on the org page; any
    other (not allowed, no such org or member) is the error page."""
    try:
        async with services.db.transaction() as tx:
            membership = await org_context.access(tx, ref, viewer.principal)
            await change(tx, membership)
    except _INLINE as exc:
        return await _org_page(
            services,
            viewer,
            ref,
            status=exc.status,
            errors={place: exc.description},
        )
    except AuthgateError as exc:
        return error_page(exc.description, status=exc.status)
    return RedirectResponse(then or _org_url(membership.org), status_code=303)


@router.post(f"{paths.SETTINGS_ORGS}/{{org}}/invites", response_model=None)
async def invite_member(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    org: Ref,
    email: Text = "",
    role: Text = "",
) -> Response:
    try:
        async with services.db.transaction() as tx:
            created = await orgs.invite(
                tx,
                await org_context.access(tx, org, viewer.principal),
                email=email,
                role=role,
                mailing=mailing(services),
                accounts=services.settings.org_invites_create_accounts,
                peer=peer,
            )
    except _INLINE as exc:
        return await _org_page(
            services,
            viewer,
            org,
            status=exc.status,
            errors={"invite": exc.description},
            invite_form={"email": email, "role": role},
        )
    except AuthgateError as exc:
        return error_page(exc.description, status=exc.status)
    # Shown once, here: only the code's hash is stored.
    return await _org_page(services, viewer, org, created=created)


@router.post(
    f"{paths.SETTINGS_ORGS}/{{org}}/invites/{{invite_id}}/revoke", response_model=None
)
async def revoke_invite(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    org: Ref,
    invite_id: Ref,
) -> Response:
    return await _change(
        services,
        viewer,
        org,
        lambda tx, m: orgs.revoke_invite(tx, m, invite_id, peer),
        place="invites",
    )


@router.post(
    f"{paths.SETTINGS_ORGS}/{{org}}/members/{{user_id}}/role", response_model=None
)
async def change_role(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    org: Ref,
    user_id: Ref,
    role: Text = "",
) -> Response:
    return await _change(
        services,
        viewer,
        org,
        lambda tx, m: orgs.change_role(tx, m, user_id, role, peer),
        place="members",
    )


@router.post(
    f"{paths.SETTINGS_ORGS}/{{org}}/members/{{user_id}}/remove", response_model=None
)
async def remove_member(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    org: Ref,
    user_id: Ref,
) -> Response:
    return await _change(
        services,
        viewer,
        org,
        lambda tx, m: orgs.remove_member(tx, m, user_id, peer),
        place="members",
    )


@router.post(f"{paths.SETTINGS_ORGS}/{{org}}/require-mfa", response_model=None)
async def require_mfa(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    org: Ref,
    require_mfa: Annotated[bool, Form()] = False,
) -> Response:
    return await _change(
        services,
        viewer,
        org,
        lambda tx, m: orgs.update(
            tx, m, name=None, slug=None, require_mfa=require_mfa, peer=peer
        ),
        place="mfa",
    )


@router.post(f"{paths.SETTINGS_ORGS}/{{org}}/leave", response_model=None)
async def leave(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    org: Ref,
) -> Response:
    return await _change(
        services,
        viewer,
        org,
        lambda tx, m: orgs.remove_member(tx, m, m.user_id, peer),
        place="leave",
        then=paths.SETTINGS_ORGS,
    )
