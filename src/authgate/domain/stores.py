"""The unit of work a use case runs in: every store, in one transaction.

``storage.db.Database.transaction()`` yields an object of this shape; use cases
take it and never commit. It sits on top of the domain: each domain module
declares its own ``Tx``, the stores its use cases touch (``audit.Tx`` has
``audit``; ``sessions.Tx`` adds ``sessions`` to the ``grants.Tx`` of the grants
it revokes; and so on up), so a module imports only those below it, and mypy
checks that this combination satisfies every one of them where a caller
passes it on.
"""

from typing import Protocol

from authgate.domain import invalidation
from authgate.domain.audit import AuditStore
from authgate.domain.backoffice import BackOfficeStore
from authgate.domain.clients import ClientStore
from authgate.domain.credentials import CredentialStore
from authgate.domain.grants import AuthorizationCodeStore, ConsentStore, DeviceCodeStore
from authgate.domain.identities import IdentityStore
from authgate.domain.invites import InviteStore
from authgate.domain.lockout import LockoutStore
from authgate.domain.orgs import OrgStore
from authgate.domain.recovery import RecoveryKeyStore
from authgate.domain.refresh_families import RefreshTokenStore
from authgate.domain.replay import ReplayStore
from authgate.domain.revocations import RevocationStore
from authgate.domain.sessions import SessionStore
from authgate.domain.signing_keys import KeyStore
from authgate.domain.users import UserStore


class Stores(invalidation.Tx, Protocol):
    @property
    def users(self) -> UserStore: ...
    @property
    def sessions(self) -> SessionStore: ...
    @property
    def refresh_tokens(self) -> RefreshTokenStore: ...
    @property
    def lockout(self) -> LockoutStore: ...
    @property
    def invites(self) -> InviteStore: ...
    @property
    def signing_keys(self) -> KeyStore: ...
    @property
    def audit(self) -> AuditStore: ...
    @property
    def credentials(self) -> CredentialStore: ...
    @property
    def recovery_keys(self) -> RecoveryKeyStore: ...
    @property
    def backoffice(self) -> BackOfficeStore: ...
    @property
    def orgs(self) -> OrgStore: ...
    @property
    def identities(self) -> IdentityStore: ...
    @property
    def replay(self) -> ReplayStore: ...
    @property
    def clients(self) -> ClientStore: ...
    @property
    def authorization_codes(self) -> AuthorizationCodeStore: ...
    @property
    def device_codes(self) -> DeviceCodeStore: ...
    @property
    def consents(self) -> ConsentStore: ...
    @property
    def revocations(self) -> RevocationStore: ...
