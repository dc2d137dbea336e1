"""``/admin/audit``: the audit log, filtered by user, event, organization and
time, newest first, paged by the same cursor as ``GET /api/v1/admin/audit``
(both list through ``web.audit_log.audit_page``).

People type what they know: a username (or a ``usr_…`` id), an org's slug
(or id), and times in UTC; each entry reads as words (who did what to whom,
from where), with the recorded details beneath.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from authgate.domain import users
from authgate.domain.audit import Action, AuditQuery
from authgate.errors import AuthgateError, InvalidRequest
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.audit_log import AuditOut, audit_page
from authgate.web.deps import ServicesDep
from authgate.web.pages.admin.gate import (
    PAGE_SIZE,
    AdminViewer,
    console_page,
    usernames,
)
from authgate.web.pages.viewer import PageRoute

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

#: Each event in words (the raw name shows for an event missing here).
EVENT_TEXT: dict[str, str] = {
    Action.USER_CREATED: "Account created",
    Action.LOGIN_SUCCEEDED: "Signed in",
    Action.LOGIN_FAILED: "Sign-in failed",
    Action.ACCOUNT_LOCKED: "Account locked after failed sign-ins or password checks",
    Action.LOGOUT: "Signed out",
    Action.SESSION_REVOKED: "Sessions ended",
    Action.REFRESH_REUSED: "Refresh token reused (its family was revoked)",
    Action.INVITE_CREATED: "Invite created",
    Action.INVITE_USED: "Invite used",
    Action.INVITE_REVOKED: "Invite revoked",
    Action.PASSWORD_RESET: "Password reset",
    Action.PASSWORD_CHANGED: "Password changed",
    Action.PASSWORD_RECHECK_FAILED: "Wrong current password given in settings",
    Action.PASSWORD_RESET_REQUESTED: "Password reset link asked for",
    Action.PASSWORD_RESET_USED: "Password reset with a mailed link",
    Action.EMAIL_CHANGED: "Email address changed",
    Action.EMAIL_CHANGE_REQUESTED: "New email address asked for",
    Action.EMAIL_VERIFIED: "Email address verified",
    Action.KEYS_ROTATED: "Signing keys rotated",
    Action.SECRET_ROTATED: "Stored secrets re-sealed under a new server secret",
    Action.PAT_CREATED: "Personal access token created",
    Action.PAT_REVOKED: "Personal access token revoked",
    Action.API_KEY_CREATED: "API key created",
    Action.API_KEY_REVOKED: "API key revoked",
    Action.CREDENTIAL_USED_AFTER_REVOKE: "Revoked credential used",
    Action.RECOVERY_KEY_CREATED: "Recovery key created",
    Action.RECOVERY_USED: "Account recovered with a recovery key",
    Action.RECOVERY_FAILED: "Recovery attempt failed",
    Action.FACTOR_ENROLLED: "Second factor set up",
    Action.FACTOR_REMOVED: "Second factor removed",
    Action.FACTORS_RESET: "Second factors reset by an administrator",
    Action.MFA_FAILED: "Second sign-in step failed",
    Action.RECOVERY_CODE_USED: "Recovery code used to sign in",
    Action.RECOVERY_CODES_REGENERATED: "New recovery codes made",
    Action.USER_DISABLED: "Account disabled",
    Action.USER_ENABLED: "Account enabled",
    Action.USER_DELETED: "Account deleted",
    Action.ADMIN_GRANTED: "Administrator role granted",
    Action.ADMIN_REVOKED: "Administrator role revoked",
    Action.CREDENTIALS_REVOKED: "Every credential of the account revoked",
    Action.ORG_CREATED: "Organization created",
    Action.ORG_UPDATED: "Organization updated",
    Action.ORG_DELETED: "Organization deleted",
    Action.MEMBER_JOINED: "Member joined",
    Action.MEMBER_ROLE_CHANGED: "Member's role changed",
    Action.MEMBER_REMOVED: "Member removed",
    Action.MEMBER_LEFT: "Member left",
    Action.LOGIN_REFUSED: "Sign-in refused",
    Action.IDENTITY_LINKED: "External identity linked",
    Action.DEV_LOGIN: "Development sign-in",
    Action.CLIENT_REGISTERED: "OAuth client registered",
    Action.CLIENT_DELETED: "OAuth client deleted",
    Action.CONSENT_GRANTED: "Access granted to an application",
    Action.CONSENT_DENIED: "Access denied to an application",
    Action.CONSENT_WITHDRAWN: "Access to an application withdrawn",
    Action.CODE_ISSUED: "Authorization code issued",
    Action.CODE_REDEEMED: "Authorization code redeemed",
    Action.CODE_REPLAYED: "Authorization code replayed (its tokens were revoked)",
    Action.DEVICE_APPROVED: "Device approved",
    Action.DEVICE_DENIED: "Device denied",
    Action.DEVICE_CODE_REDEEMED: "Device code redeemed",
    Action.TOKEN_REVOKED: "OAuth token revoked",
    Action.PASSKEY_ADDED: "Passkey added",
    Action.PASSKEY_RENAMED: "Passkey renamed",
    Action.PASSKEY_REMOVED: "Passkey removed",
    Action.PASSKEY_FAILED: "Passkey refused",
    Action.PASSKEY_CLONE_SUSPECTED: "Passkey refused: its counter went back "
    "(a copied key?)",
}
Field = Annotated[str, Query(max_length=320)]


def _time(text: str, label: str) -> datetime | None:
    """A ``datetime-local`` field's value (or any ISO 8601 time), read as UTC
    unless it names its offset."""
    if not text.strip():
        return None
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(
            f"{label} is not a date and time (such as 2026-01-31T14:00)."
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _query(
    services: Services, filters: dict[str, str], cursor: str
) -> AuditQuery:
    """The filters as typed, as a query: names resolved to ids."""
    user_id = org_id = None
    async with services.db.read() as tx:
        if who := filters["user"].strip():
            user = (
                await tx.users.get(who)
                if who.startswith("usr_")
                else await tx.users.by_username(_username(who))
            )
            if user is not None:
                user_id = user.id
            elif who.startswith("usr_"):
                user_id = who  # a deleted account's entries stay, by its id
            else:
                raise InvalidRequest(f"No user is named {who}.")
        if org := filters["org"].strip():
            found = await tx.orgs.find(org)
            if found is None:
                raise InvalidRequest(f"No organization is named {org}.")
            org_id = found.id
    action = filters["action"]
    if action and action not in EVENT_TEXT:
        raise InvalidRequest("Choose an event from the list.")
    if cursor and (not cursor.isdigit() or len(cursor) > 18):
        raise InvalidRequest("That page link is not valid; start from the newest.")
    return AuditQuery(
        user_id=user_id,
        action=action or None,
        org_id=org_id,
        since=_time(filters["since"], "From"),
        until=_time(filters["until"], "Until"),
        before_id=int(cursor) if cursor else None,
        limit=PAGE_SIZE,
    )


def _username(text: str) -> str:
    try:
        return users.normalize_username(text)
    except InvalidRequest:
        return text


def _details(entry: AuditOut) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    for key, value in entry.details.items():
        text = value if isinstance(value, str) else json.dumps(value)
        shown.append((key.replace("_", " ").capitalize(), text))
    if entry.user_agent:
        shown.append(("User agent", entry.user_agent))
    return shown


@router.get(paths.ADMIN_AUDIT, response_model=None)
async def audit_log(
    viewer: AdminViewer,
    services: ServicesDep,
    user: Field = "",
    action: Field = "",
    org: Field = "",
    since: Field = "",
    until: Field = "",
    cursor: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    filters = {
        "user": user,
        "action": action,
        "org": org,
        "since": since,
        "until": until,
    }
    context: dict[str, Any] = {"filters": filters, "events": EVENT_TEXT}
    try:
        query = await _query(services, filters, cursor)
    except AuthgateError as exc:
        return console_page(
            viewer,
            "admin/audit.html",
            section="audit",
            status=exc.status,
            error=exc.description,
            entries=[],
            next_cursor=None,
            cursor=cursor,
            **context,
        )
    found = await audit_page(services, query)
    ids = [i for e in found.items for i in (e.actor_id, e.target_id, e.org_id)]
    async with services.db.read() as tx:
        # Names people read: usernames, and organizations by slug.
        names = await usernames(tx, ids)
        for org_id in {i for i in ids if i and i.startswith("org_")}:
            known = await tx.orgs.find(org_id)
            if known is not None:
                names[org_id] = known.slug
    entries = [
        {
            "at": e.at,
            "event": EVENT_TEXT.get(e.action, e.action),
            "action": e.action,
            "actor": names.get(e.actor_id or "", e.actor_id),
            "target": names.get(e.target_id or "", e.target_id),
            "org": names.get(e.org_id or "", e.org_id),
            "ip": e.ip,
            "details": _details(e),
        }
        for e in found.items
    ]
    return console_page(
        viewer,
        "admin/audit.html",
        section="audit",
        entries=entries,
        next_cursor=found.next_cursor,
        cursor=cursor,
        **context,
    )
