"""All the stores of one in-memory instance, shaped as ``domain.stores.Stores``."""

from tests.support.memory.accounts import (
    MemoryIdentities,
    MemoryLockout,
    MemoryRecoveryKeys,
    MemoryUsers,
)
from tests.support.memory.audit import MemoryAudit
from tests.support.memory.backoffice import MemoryBackOffice
from tests.support.memory.credentials import MemoryCredentials
from tests.support.memory.email_tokens import MemoryEmailTokens
from tests.support.memory.factors import MemoryRecoveryCodes, MemoryTotp
from tests.support.memory.invalidations import MemoryOutbox
from tests.support.memory.mail import MemoryMail
from tests.support.memory.oauth import (
    MemoryAuthorizationCodes,
    MemoryClients,
    MemoryConsents,
    MemoryDeviceCodes,
    MemoryRevocations,
)
from tests.support.memory.orgs import MemoryInvites, MemoryOrgs
from tests.support.memory.passkeys import MemoryPasskeys
from tests.support.memory.replay import MemoryReplay
from tests.support.memory.sessions import MemoryRefreshTokens, MemorySessions
from tests.support.memory.signing_keys import MemorySigningKeys


class MemoryStores:
    """One instance's storage, as a single transaction that always commits.

    ``invalidated`` collects what ``invalidate`` was told, in order, so a test
    can assert the fan-out a change asks for (``storage.db.Tx`` does the same).
    """

    def __init__(self) -> None:
        self.users = MemoryUsers()
        self.refresh_tokens = MemoryRefreshTokens()
        self.sessions = MemorySessions(self.refresh_tokens)
        self.lockout = MemoryLockout()
        self.invites = MemoryInvites()
        self.signing_keys = MemorySigningKeys()
        self.audit = MemoryAudit()
        self.credentials = MemoryCredentials()
        self.recovery_keys = MemoryRecoveryKeys()
        self.identities = MemoryIdentities()
        self.orgs = MemoryOrgs(self.users, self.invites, self.identities)
        self.backoffice = MemoryBackOffice(
            self.users, self.sessions, self.credentials, self.orgs
        )
        self.replay = MemoryReplay()
        self.consents = MemoryConsents()
        self.clients = MemoryClients(self.consents, self.refresh_tokens)
        self.passkeys = MemoryPasskeys()
        self.authorization_codes = MemoryAuthorizationCodes()
        self.device_codes = MemoryDeviceCodes()
        self.revocations = MemoryRevocations()
        self.invalidations = MemoryOutbox()
        self.totp = MemoryTotp()
        self.recovery_codes = MemoryRecoveryCodes()
        self.mail = MemoryMail()
        self.email_tokens = MemoryEmailTokens()
        self.invalidated: list[str] = []

    def invalidate(self, *tags: str) -> None:
        self.invalidated.extend(tags)
        self.invalidations.add(tags)
