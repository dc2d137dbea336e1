"""What every request handler shares, built once by ``create_app``."""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from authgate.config import Settings
from authgate.domain import (
    account,
    derived_keys,
    factors,
    lockout,
    notices,
    refresh_tokens,
    signing_keys,
)
from authgate.domain.account import Confirmed
from authgate.domain.allowlist import Allowlist
from authgate.domain.context import Peer
from authgate.domain.passwords import Hasher
from authgate.domain.recovery_codes import Digester
from authgate.domain.sealing import Sealer
from authgate.domain.sessions import Policy as SessionPolicy
from authgate.domain.users import User
from authgate.errors import InvalidCredentials
from authgate.guard import VerificationCache
from authgate.oauth.server import Server
from authgate.server.fanout import InvalidationFeed
from authgate.server.geo import GeoLocator
from authgate.server.mail_sender import MailSender
from authgate.server.metrics import Metrics
from authgate.server.org_context import OrgContext
from authgate.server.ratelimit import RateLimiter
from authgate.server.revocation_filter import RevocationFilter
from authgate.server.session_cache import SessionCache
from authgate.server.ttlmap import TtlMap
from authgate.server.workers import Siblings
from authgate.storage.db import Database
from authgate.upstream.base import Provider

log = logging.getLogger("authgate")

#: An unknown ``kid`` reloads the key ring at most this often, so a flood of
#: forged tokens cannot turn into a flood of database reads.
KEY_RELOAD_INTERVAL = 10.0


class Keys:
    """The key ring this instance signs and verifies with; reloads from the
    database when another instance (or ``admin rotate-keys``) rotated."""

    def __init__(
        self, db: Database, cipher: signing_keys.KeyCipher, retention: timedelta
    ) -> None:
        self._db = db
        self.cipher = cipher
        #: How long a retired key stays published (the longest token's life).
        self.retention = retention
        self._lock = asyncio.Lock()
        self._loaded_at = 0.0
        self._reloading: set[asyncio.Task[None]] = set()
        self.ring: signing_keys.KeyRing = signing_keys.KeyRing([], cipher, retention)

    async def load(self) -> None:
        async with self._db.transaction() as tx:
            await signing_keys.ensure(tx, self.cipher)
            keys = await tx.signing_keys.all()
        self.ring = signing_keys.KeyRing(keys, self.cipher, self.retention)
        self._loaded_at = time.monotonic()

    def reload_soon(self) -> None:
        """Keys were rotated (here, on another instance or by the CLI): sign
        with the new ones from the next token on. Until the reload lands a
        token may still be signed with the retired key, which stays published."""
        task = asyncio.get_running_loop().create_task(self._reload())
        self._reloading.add(task)
        task.add_done_callback(self._reloading.discard)

    async def settled(self) -> None:
        """Wait for the reloads under way, so none reads the database after it
        closes (an ``admin rotate-keys`` command schedules one as it commits)."""
        if self._reloading:
            await asyncio.gather(*self._reloading, return_exceptions=True)

    async def _reload(self) -> None:
        try:
            async with self._lock:
                await self.load()
        except Exception:
            log.exception("could not reload the signing keys after a rotation")

    async def key(self, kid: str) -> Any | None:
        """``guard.KeySource``: the public key for a kid, reloading once if unknown."""
        found = self.ring.public_key(kid)
        if found is None and time.monotonic() - self._loaded_at > KEY_RELOAD_INTERVAL:
            async with self._lock:
                if time.monotonic() - self._loaded_at > KEY_RELOAD_INTERVAL:
                    await self.load()
            found = self.ring.public_key(kid)
        return found


@dataclass
class Services:
    settings: Settings
    db: Database
    hasher: Hasher
    keys: Keys
    #: The server secret, then during a rotation the one it replaced.
    secrets: tuple[bytes, ...]
    cache: VerificationCache
    geo: GeoLocator
    orgs: OrgContext
    oauth: Server
    #: What ``/metrics`` reports (its cache is ``cache``, counting look-ups).
    metrics: Metrics
    #: Users by id, so ``/me`` and verifiers skip the database on a repeat
    #: request; evicted by the same revocation fan-out as credentials, and
    #: kept no longer than the sessions are (``server/session_cache.py``).
    users: TtlMap[User]
    #: The sessions a JWT's ``sid`` names, so a new token of a session seen
    #: before needs no database read.
    sessions: SessionCache
    #: Whether an OAuth client's JWT is revoked, from memory when surely not.
    revocations: RevocationFilter
    #: Sends queued mail in the background: a use case queues with
    #: ``mail.sealer`` in its transaction; the database wakes the sender once
    #: that commits (``Database.on_mail_queued``), so the message goes out
    #: now, not at the next poll.
    mail: MailSender
    feed: InvalidationFeed | None = None
    #: The other workers of this ``authgate serve``, when it runs several.
    siblings: Siblings | None = None
    #: Request-rate limits (``server/ratelimit.py``); shared through Redis when set.
    limiter: RateLimiter = field(default_factory=RateLimiter)
    #: The upstream identity provider for web sign-in, if one is configured.
    upstream: Provider | None = None

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle_timeout=self.settings.session_idle_timeout,
            max_lifetime=self.settings.session_max_lifetime,
        )

    @property
    def refresh_lifetime(self) -> refresh_tokens.Lifetime:
        return refresh_tokens.Lifetime(
            idle=self.settings.refresh_token_expiry,
            max=self.settings.refresh_token_max_lifetime,
        )

    @property
    def lockout_policy(self) -> lockout.Policy:
        return lockout.Policy(
            max_attempts=self.settings.max_login_attempts,
            duration=timedelta(minutes=self.settings.lockout_duration_minutes),
        )

    @cached_property
    def notices(self) -> notices.Policy:
        """Which notices go out (``AUTHGATE_MAIL_NOTICES``) and how."""
        return notices.Policy(
            sealer=self.mail.sealer,
            kinds=frozenset(notices.Kind(k) for k in self.settings.mail_notices),
            public_url=self.settings.issuer,
            locate=self.geo.locate,
        )

    @property
    def allowlist(self) -> Allowlist:
        """``AUTHGATE_SIGNIN_ALLOWED_EMAILS`` (validated when Settings was built)."""
        return Allowlist.parse(self.settings.signin_allowed_emails)

    def derived_key(self, purpose: str) -> bytes:
        """The key for ``purpose``: what is sealed or signed from now on."""
        return derived_keys.derive(self.secrets[0], purpose)

    def derived_keys(self, purpose: str) -> tuple[bytes, ...]:
        """What sealed or signed values for ``purpose`` are checked against."""
        return derived_keys.derive_all(self.secrets, purpose)

    @property
    def factor_keys(self) -> factors.Keys:
        """Each second-factor secret under a key of its own."""
        return factors.Keys(
            tickets=Sealer(*self.derived_keys("mfa-ticket")),
            totp=Sealer(*self.derived_keys("totp")),
            codes=Digester(*self.derived_keys("recovery-codes")),
        )

    def evict(self, tags: list[str]) -> None:
        """Drop every cached verification, user, session, membership, client
        and introspection answer naming these ids, note them as possibly
        revoked, and reload the key ring after a rotation."""
        self.cache.invalidate(*tags)
        self.users.invalidate(*tags)
        self.sessions.invalidate(*tags)
        self.revocations.saw(tags)
        self.orgs.invalidate(*tags)
        self.oauth.clients.invalidate(*tags)
        self.oauth.introspected.invalidate(*tags)
        if signing_keys.RING in tags:
            self.keys.reload_soon()

    async def invalidated(self, tags: list[str]) -> None:
        """After a commit that revoked something: evict here at once, then wake
        the other instances (the outbox row already committed)."""
        self.evict(tags)
        if self.feed is not None:
            await self.feed.published()

    async def user(self, user_id: str) -> User | None:
        cached = self.users.get(user_id)
        if cached is not None:
            return cached
        since = self.users.generation
        async with self.db.read() as tx:
            found = await tx.users.get(user_id)
        if found is not None:
            self.users.put(user_id, found, since=since)
        return found

    async def confirm_password(
        self, user: User, password: str, peer: Peer
    ) -> Confirmed:
        """The person's current password, checked against their hash as stored
        now (a cached copy may hold an older one), with no transaction open;
        refused while the account's re-checks are locked, and a wrong one
        counted against the account and audited."""
        async with self.db.read() as tx:
            fresh = await tx.users.get(user.id) or user
            await account.check_recheck_open(tx, user.id)
        try:
            return await account.confirm_password(self.hasher, fresh, password)
        except InvalidCredentials:
            async with self.db.transaction() as tx:
                await account.recheck_failed(tx, self.lockout_policy, fresh, peer=peer)
            raise
