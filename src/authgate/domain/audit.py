"""The audit log: append-only events, written in the transaction of the change
they record, so an event is logged exactly when its change happened. Nothing
edits or deletes one but the retention setting (``domain.housekeeping``)."""

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from authgate.domain.context import Peer
from authgate.util import clock


class Action(enum.StrEnum):
    USER_CREATED = "user.created"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    ACCOUNT_LOCKED = "account.locked"
    LOGOUT = "logout"
    SESSION_REVOKED = "session.revoked"
    REFRESH_REUSED = "refresh_token.reused"
    INVITE_CREATED = "invite.created"
    INVITE_USED = "invite.used"
    INVITE_REVOKED = "invite.revoked"
    PASSWORD_RESET = "password.reset"  # noqa: S105 - an event name
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an event name
    #: A wrong current password given to a re-check (password change, recovery key).
    PASSWORD_RECHECK_FAILED = "password.recheck_failed"  # noqa: S105 - an event name
    #: A reset link asked for; details give the ``email``, the target the
    #: account it went to (none: no account here can be reset through it).
    PASSWORD_RESET_REQUESTED = "password_reset.requested"  # noqa: S105 - an event name
    PASSWORD_RESET_USED = "password_reset.used"  # noqa: S105 - an event name
    EMAIL_CHANGED = "user.email_changed"
    #: A new address asked for; details give the ``email`` its link went to.
    EMAIL_CHANGE_REQUESTED = "email.change_requested"
    #: A verification link followed; details give the ``email`` verified.
    EMAIL_VERIFIED = "email.verified"
    KEYS_ROTATED = "signing_keys.rotated"
    #: What was sealed under the previous server secret re-sealed under the
    #: new one; details count each kind.
    SECRET_ROTATED = "secret.rotated"  # noqa: S105 - an event name
    PAT_CREATED = "access_token.created"
    PAT_REVOKED = "access_token.revoked"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    CREDENTIAL_USED_AFTER_REVOKE = "credential.used_after_revoke"
    RECOVERY_KEY_CREATED = "recovery_key.created"
    RECOVERY_USED = "recovery_key.used"
    RECOVERY_FAILED = "recovery_key.failed"
    #: Details name the ``factor`` (``totp``).
    FACTOR_ENROLLED = "factor.enrolled"
    FACTOR_REMOVED = "factor.removed"
    #: an administrator removed every factor of a person who lost theirs
    FACTORS_RESET = "factors.reset"
    #: A wrong or refused second step; details name the ``method`` and ``reason``.
    MFA_FAILED = "mfa.failed"
    RECOVERY_CODE_USED = "recovery_code.used"
    RECOVERY_CODES_REGENERATED = "recovery_codes.regenerated"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    #: The account and what it held removed; details give its ``username``.
    USER_DELETED = "user.deleted"
    ADMIN_GRANTED = "user.admin_granted"
    ADMIN_REVOKED = "user.admin_revoked"
    CREDENTIALS_REVOKED = "user.credentials_revoked"
    ORG_CREATED = "org.created"
    ORG_UPDATED = "org.updated"
    ORG_DELETED = "org.deleted"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    #: Upstream sign-in: details name the ``provider`` (``oidc``, ``workos``, ``dev``).
    LOGIN_REFUSED = "login.refused"
    IDENTITY_LINKED = "identity.linked"
    DEV_LOGIN = "login.dev"
    CLIENT_REGISTERED = "oauth_client.registered"
    CLIENT_DELETED = "oauth_client.deleted"
    CONSENT_GRANTED = "oauth.consent_granted"
    CONSENT_DENIED = "oauth.consent_denied"
    CONSENT_WITHDRAWN = "oauth.consent_withdrawn"
    CODE_ISSUED = "oauth.code_issued"
    CODE_REDEEMED = "oauth.code_redeemed"
    CODE_REPLAYED = "oauth.code_replayed"
    DEVICE_APPROVED = "oauth.device_approved"
    DEVICE_DENIED = "oauth.device_denied"
    DEVICE_CODE_REDEEMED = "oauth.device_code_redeemed"
    TOKEN_REVOKED = "oauth.token_revoked"  # noqa: S105 - an event name
    PASSKEY_ADDED = "passkey.added"
    PASSKEY_RENAMED = "passkey.renamed"
    PASSKEY_REMOVED = "passkey.removed"
    #: An assertion refused: details give the ``reason``.
    PASSKEY_FAILED = "passkey.failed"
    #: A signature counter that went back: two authenticators hold one key.
    PASSKEY_CLONE_SUSPECTED = "passkey.clone_suspected"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str
    at: datetime
    actor_id: str | None = None
    target_id: str | None = None
    org_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    user_id: str | None = None
    action: str | None = None
    org_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


class AuditStore(Protocol):
    async def add(self, event: AuditEvent) -> None: ...

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        """Newest first; ``user_id`` matches actor or target; ``before_id`` is
        the cursor."""

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` events (oldest first) recorded before
        ``before``: the retention setting, the only deletion; how many."""


class Tx(Protocol):
    @property
    def audit(self) -> AuditStore: ...


async def record(
    stores: Tx,
    action: Action,
    peer: Peer,
    *,
    actor_id: str | None = None,
    target_id: str | None = None,
    org_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await stores.audit.add(
        AuditEvent(
            action=action.value,
            at=clock.now(),
            actor_id=actor_id,
            target_id=target_id,
            org_id=org_id,
            ip=peer.ip,
            user_agent=(peer.user_agent or "")[:512] or None,
            details=details or {},
        )
    )
