"""What Authgate holds about a person, gathered for them to take away
(``GET /api/v1/me/export``).

Metadata only: a credential's name, prefix, scopes and dates, never its
secret or hash (only hashes are stored, and those stay here too); the audit
entries that name the person as actor or target, every one of them still
kept (``AUTHGATE_AUDIT_RETENTION``).
"""

from dataclasses import dataclass
from typing import Protocol

from authgate.domain import orgs, sessions
from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.domain.credentials import Credential
from authgate.domain.sessions import Session
from authgate.domain.users import User

#: Audit entries read per query while gathering them all.
AUDIT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Export:
    user: User
    sessions: list[Session]
    access_tokens: list[Credential]
    api_keys: list[Credential]
    memberships: list[orgs.Membership]
    #: newest first
    audit: list[AuditEvent]


class Tx(orgs.Tx, sessions.Tx, Protocol):
    pass


async def gather(stores: Tx, user: User) -> Export:
    events: list[AuditEvent] = []
    before: int | None = None
    while True:
        batch = await stores.audit.query(
            AuditQuery(user_id=user.id, before_id=before, limit=AUDIT_BATCH)
        )
        events.extend(batch)
        if len(batch) < AUDIT_BATCH:
            break
        before = batch[-1].id
    return Export(
        user=user,
        sessions=await stores.sessions.list_for_user(user.id),
        access_tokens=await stores.credentials.list_for_user(user.id, "pat"),
        api_keys=await stores.credentials.list_for_user(user.id, "key"),
        memberships=await stores.orgs.memberships(user.id),
        audit=events,
    )
