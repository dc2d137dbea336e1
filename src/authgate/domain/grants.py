"""What a user grants a client, and the one-time codes that carry it to the
token endpoint: authorization codes (RFC 6749 §4.1, OAuth 2.1 §4.1), device
codes (RFC 8628) and remembered consents.

Codes are 256-bit minted secrets stored as SHA-256 digests, single use (marked
used atomically, so two concurrent redemptions cannot both win) and short
lived. A code's id is also the id of the grant it starts: its refresh tokens
form the family with that id, and its access tokens carry it as ``gid``, so a
replayed code revokes everything it issued (RFC 6749 §4.1.2).

Device authorization states (RFC 8628 §3.3-3.5)::

    pending ──(user approves)──► approved ──(client polls)──► used
       │
       └─────(user denies)─────► denied
    any state but used ──(expires_in passes)──► expired (derived from the time)
"""

import enum
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from authgate.domain import audit, revocations
from authgate.domain.assurance import Authentication
from authgate.domain.context import Peer
from authgate.domain.refresh_families import RefreshTokenStore
from authgate.errors import NotFound
from authgate.util import clock, tokens
from authgate.util.ids import new_id

#: OAuth 2.1 §4.1.2: a short lifetime; ten minutes at most, one is plenty.
CODE_TTL = timedelta(seconds=60)
#: Used and expired codes are kept this long past expiry, so a late replay is
#: still recognised as one (and revokes what the code issued).
CODE_RETENTION = timedelta(days=1)
#: RFC 8628 §3.2: seconds a client waits between polls, 5 unless told otherwise.
DEVICE_INTERVAL = 5
#: RFC 8628 §3.5: ``slow_down`` adds this many seconds to the interval, for good.
SLOW_DOWN_STEP = 5
#: RFC 8628 §6.1: 20 consonants, no vowels (so no words), no look-alikes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8  #: 20^8 ≈ 2^34.6; brute force is bounded by rate limits


def _split(value: str) -> tuple[str, ...]:
    return tuple(value.split())


# -- Authorization codes ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    id: str
    client_id: str
    user_id: str
    #: The redirect URI as the authorization request gave it (``None`` when it
    #: was omitted); the token request must repeat it (RFC 6749 §4.1.3).
    redirect_uri: str | None
    code_challenge: str  #: RFC 7636 S256 challenge
    scope: str
    resource: str  #: space-separated audiences (RFC 8707)
    created_at: datetime
    expires_at: datetime
    nonce: str | None = None  #: OIDC Core §3.1.2.1, echoed in the ID token
    used_at: datetime | None = None
    #: how the person authenticated before approving (the tokens say it)
    authentication: Authentication | None = None

    @property
    def resources(self) -> tuple[str, ...]:
        return _split(self.resource)


class AuthorizationCodeStore(Protocol):
    async def add(self, code: AuthorizationCode, code_hash: str) -> None: ...

    async def by_hash(self, code_hash: str) -> AuthorizationCode | None: ...

    async def mark_used(self, code_id: str, at: datetime) -> bool:
        """Atomically mark an unused code used; ``False`` when it already was."""

    async def used_since(
        self, user_id: str, since: datetime, *, client_id: str | None = None
    ) -> list[str]:
        """Ids of the user's codes (only ``client_id``'s when given) redeemed
        at or after ``since``: the grants whose access tokens may be alive."""

    async def prune(self, before: datetime) -> int:
        """Delete codes that expired before ``before``; how many."""


async def issue_code(
    stores: "Tx",
    *,
    prefix: str,
    client_id: str,
    user_id: str,
    redirect_uri: str | None,
    code_challenge: str,
    scope: str,
    resources: Iterable[str],
    nonce: str | None,
    authentication: Authentication | None,
    peer: Peer,
) -> tuple[AuthorizationCode, str]:
    """A new authorization code and its secret (only the digest is stored).
    ``authentication``: the session's, which the code's tokens say."""
    now = clock.now()
    await stores.authorization_codes.prune(now - CODE_RETENTION)
    secret = tokens.mint(prefix, "ac")
    code = AuthorizationCode(
        id=new_id("gr"),
        client_id=client_id,
        user_id=user_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        scope=scope,
        resource=" ".join(resources),
        created_at=now,
        expires_at=now + CODE_TTL,
        nonce=nonce,
        authentication=authentication,
    )
    await stores.authorization_codes.add(code, tokens.digest(secret))
    await audit.record(
        stores,
        audit.Action.CODE_ISSUED,
        peer,
        actor_id=user_id,
        target_id=code.id,
        details={"client_id": client_id, "scope": scope, "resource": code.resource},
    )
    return code, secret


async def find_code(stores: "Tx", secret: str) -> AuthorizationCode | None:
    return await stores.authorization_codes.by_hash(tokens.digest(secret))


async def redeem_code(stores: "Tx", code: AuthorizationCode, *, peer: Peer) -> bool:
    """Use the code up; ``False`` when it already was (a replay: the caller
    must then call :func:`code_replayed` and commit)."""
    if code.used_at is not None:
        return False
    if not await stores.authorization_codes.mark_used(code.id, clock.now()):
        return False
    await audit.record(
        stores,
        audit.Action.CODE_REDEEMED,
        peer,
        actor_id=code.user_id,
        target_id=code.id,
        details={"client_id": code.client_id},
    )
    return True


async def code_replayed(
    stores: "Tx",
    code: AuthorizationCode,
    *,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """RFC 6749 §4.1.2 / OAuth 2.1 §4.1.3: a code presented twice revokes every
    token it issued: the refresh family, and (by its grant id) the access
    tokens, refused from the next request on."""
    await revoke_grant(stores, code.id, access_ttl=access_ttl)
    await audit.record(
        stores,
        audit.Action.CODE_REPLAYED,
        peer,
        actor_id=code.user_id,
        target_id=code.id,
        details={"client_id": code.client_id},
    )


async def revoke_grant(stores: "Tx", grant_id: str, *, access_ttl: timedelta) -> int:
    """Revoke a grant's refresh family and access tokens; refresh tokens revoked.

    The newest access token of the grant was issued no later than now, so
    remembering the grant id for one access-token lifetime covers them all."""
    now = clock.now()
    revoked = await stores.refresh_tokens.revoke_family(grant_id, now)
    await revocations.revoke(stores, grant_id, until=now + access_ttl)
    return revoked


async def revoke_user_grants(
    stores: "Tx",
    user_id: str,
    *,
    client_id: str | None = None,
    keep_session: str | None = None,
    access_ttl: timedelta,
) -> list[str]:
    """Revoke every grant of the user (only ``client_id``'s when given): each
    refresh family (but those of session ``keep_session``), and every access
    token, by grant id, refused from the next request on. That covers grants
    with no refresh family too (a client without the refresh grant): any code
    redeemed within an access-token lifetime may have live tokens. The OAuth
    families revoked."""
    now = clock.now()
    families = await stores.refresh_tokens.revoke_for_user(
        user_id, now, client_id=client_id, keep_session=keep_session
    )
    since = now - access_ttl
    recent = [
        *await stores.authorization_codes.used_since(
            user_id, since, client_id=client_id
        ),
        *await stores.device_codes.used_since(user_id, since, client_id=client_id),
    ]
    await revocations.revoke(stores, *families, *recent, until=now + access_ttl)
    return families


# -- Device codes (RFC 8628) ------------------------------------------------------


class DeviceStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    USED = "used"


class Poll(enum.Enum):
    """What a token request with a device code gets (RFC 8628 §3.5)."""

    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    DENIED = "access_denied"
    EXPIRED = "expired_token"
    USED = "used"  #: tokens were already issued for this code
    APPROVED = "approved"  #: issue tokens now (the code is used up)


@dataclass(frozen=True, slots=True)
class DeviceCode:
    id: str
    client_id: str
    scope: str
    resource: str  #: space-separated audiences (RFC 8707)
    created_at: datetime
    expires_at: datetime
    interval: int = DEVICE_INTERVAL
    status: DeviceStatus = DeviceStatus.PENDING
    user_id: str | None = None
    last_polled_at: datetime | None = None
    decided_at: datetime | None = None
    #: how the person who approved had authenticated (the tokens say it)
    authentication: Authentication | None = None

    @property
    def resources(self) -> tuple[str, ...]:
        return _split(self.resource)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class DeviceCodeStore(Protocol):
    async def add(
        self, device: DeviceCode, device_code_hash: str, user_code_hash: str
    ) -> None: ...

    async def by_device_code_hash(self, code_hash: str) -> DeviceCode | None: ...

    async def by_user_code_hash(self, code_hash: str) -> DeviceCode | None:
        """The newest device code with this user code, whatever its state."""

    async def record_poll(self, device_id: str, at: datetime, interval: int) -> None:
        """Remember when the client last polled, and the interval it must keep."""

    async def decide(
        self,
        device_id: str,
        status: DeviceStatus,
        user_id: str,
        at: datetime,
        authentication: Authentication | None,
    ) -> bool:
        """Atomically move a pending code to approved or denied, recording how
        the person who decided had authenticated; ``False`` when it was no
        longer pending."""

    async def mark_used(self, device_id: str, at: datetime) -> bool:
        """Atomically move an approved code to used; ``False`` when it was not
        approved (already used, most likely)."""

    async def used_since(
        self, user_id: str, since: datetime, *, client_id: str | None = None
    ) -> list[str]:
        """Ids of the user's codes (only ``client_id``'s when given) redeemed
        at or after ``since``: the grants whose access tokens may be alive."""

    async def prune(self, before: datetime) -> int:
        """Delete codes that expired before ``before``; how many."""


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def format_user_code(code: str) -> str:
    """``WDJBMJHT`` → ``WDJB-MJHT``: easier to read out and type (RFC 8628 §6.1)."""
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_user_code(text: str) -> str | None:
    """What the user typed, as stored: case and dashes and spaces ignored;
    ``None`` when it cannot be a user code at all."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


@dataclass(frozen=True, slots=True)
class StartedDevice:
    device: DeviceCode
    device_code: str  #: the client's secret, shown only now
    user_code: str  #: normalised (``WDJBMJHT``); show it formatted


async def start_device(
    stores: "Tx",
    *,
    prefix: str,
    client_id: str,
    scope: str,
    resources: Iterable[str],
    ttl: timedelta,
) -> StartedDevice:
    now = clock.now()
    await stores.device_codes.prune(now - CODE_RETENTION)
    secret = tokens.mint(prefix, "dc")
    user_code = new_user_code()
    device = DeviceCode(
        id=new_id("gr"),
        client_id=client_id,
        scope=scope,
        resource=" ".join(resources),
        created_at=now,
        expires_at=now + ttl,
    )
    await stores.device_codes.add(
        device, tokens.digest(secret), tokens.digest(user_code)
    )
    return StartedDevice(device=device, device_code=secret, user_code=user_code)


async def pending_device(stores: "Tx", user_code: str) -> DeviceCode | None:
    """The device authorization a user code names, while it awaits a decision."""
    code = normalize_user_code(user_code)
    if code is None:
        return None
    device = await stores.device_codes.by_user_code_hash(tokens.digest(code))
    if (
        device is None
        or device.status is not DeviceStatus.PENDING
        or device.expired(clock.now())
    ):
        return None
    return device


async def decide_device(
    stores: "Tx",
    device: DeviceCode,
    *,
    user_id: str,
    authentication: Authentication | None,
    approve: bool,
    peer: Peer,
) -> bool:
    """Record the user's decision; ``False`` when the code was decided meanwhile.
    ``authentication``: the deciding session's, which the tokens say."""
    status = DeviceStatus.APPROVED if approve else DeviceStatus.DENIED
    if not await stores.device_codes.decide(
        device.id, status, user_id, clock.now(), authentication
    ):
        return False
    await audit.record(
        stores,
        audit.Action.DEVICE_APPROVED if approve else audit.Action.DEVICE_DENIED,
        peer,
        actor_id=user_id,
        target_id=device.id,
        details={
            "client_id": device.client_id,
            "scope": device.scope,
            "resource": device.resource,
        },
    )
    return True


async def find_device(stores: "Tx", device_code: str) -> DeviceCode | None:
    return await stores.device_codes.by_device_code_hash(tokens.digest(device_code))


async def poll_device(
    stores: "Tx", device: DeviceCode, *, peer: Peer
) -> tuple[Poll, DeviceCode]:
    """One poll of the token endpoint (RFC 8628 §3.4-3.5), and the code as it
    now stands. Polls are recorded even when refused, so the caller commits
    whatever this returns."""
    now = clock.now()
    if device.status is DeviceStatus.USED:
        return Poll.USED, device
    if device.expired(now):
        return Poll.EXPIRED, device
    if device.status is DeviceStatus.DENIED:
        return Poll.DENIED, device
    if device.status is DeviceStatus.APPROVED:
        if not await stores.device_codes.mark_used(device.id, now):
            return Poll.USED, device
        await audit.record(
            stores,
            audit.Action.DEVICE_CODE_REDEEMED,
            peer,
            actor_id=device.user_id,
            target_id=device.id,
            details={"client_id": device.client_id},
        )
        return Poll.APPROVED, replace(device, status=DeviceStatus.USED)
    interval = device.interval
    too_fast = (
        device.last_polled_at is not None
        and now - device.last_polled_at < timedelta(seconds=interval)
    )
    if too_fast:
        interval += SLOW_DOWN_STEP
    await stores.device_codes.record_poll(device.id, now, interval)
    polled = replace(device, last_polled_at=now, interval=interval)
    return (Poll.SLOW_DOWN if too_fast else Poll.PENDING), polled


# -- Consents ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Consent:
    """What a user has allowed a client: these scopes, for these audiences."""

    user_id: str
    client_id: str
    scope: str
    resource: str
    created_at: datetime
    updated_at: datetime

    def covers(self, scopes: Iterable[str], resources: Iterable[str]) -> bool:
        return set(scopes) <= set(_split(self.scope)) and set(resources) <= set(
            _split(self.resource)
        )


class ConsentStore(Protocol):
    async def get(self, user_id: str, client_id: str) -> Consent | None: ...

    async def save(self, consent: Consent) -> None:
        """Insert or replace the user's consent for the client."""

    async def delete_for_client(self, client_id: str) -> int: ...

    async def list_for_user(self, user_id: str) -> list[Consent]:
        """The user's consents, most recently given first."""

    async def delete(self, user_id: str, client_id: str) -> bool:
        """``False`` when the user had no consent for the client."""


class Named(Protocol):
    @property
    def name(self) -> str: ...


class ClientNames(Protocol):
    """The one read grants make of the client store (``clients.ClientStore``
    is one): naming a client on a person's lists. The client rules sit above
    grants, since deleting a client revokes what it was granted."""

    async def get(self, client_id: str) -> Named | None: ...


class Tx(audit.Tx, revocations.Tx, Protocol):
    @property
    def authorization_codes(self) -> AuthorizationCodeStore: ...
    @property
    def device_codes(self) -> DeviceCodeStore: ...
    @property
    def consents(self) -> ConsentStore: ...
    @property
    def refresh_tokens(self) -> RefreshTokenStore: ...
    @property
    def clients(self) -> ClientNames: ...


async def remembered(
    stores: Tx,
    *,
    user_id: str,
    client_id: str,
    scopes: Iterable[str],
    resources: Iterable[str],
) -> bool:
    """Whether the user already allowed all of this, so the page can be skipped."""
    consent = await stores.consents.get(user_id, client_id)
    return consent is not None and consent.covers(scopes, resources)


async def give_consent(
    stores: Tx,
    *,
    user_id: str,
    client_id: str,
    scopes: Iterable[str],
    resources: Iterable[str],
    peer: Peer,
) -> Consent:
    """Remember an approval, adding to what the user allowed the client before."""
    now = clock.now()
    before = await stores.consents.get(user_id, client_id)
    scope = " ".join(
        dict.fromkeys([*(_split(before.scope) if before else ()), *scopes])
    )
    resource = " ".join(
        dict.fromkeys([*(_split(before.resource) if before else ()), *resources])
    )
    consent = Consent(
        user_id=user_id,
        client_id=client_id,
        scope=scope,
        resource=resource,
        created_at=before.created_at if before else now,
        updated_at=now,
    )
    await stores.consents.save(consent)
    await audit.record(
        stores,
        audit.Action.CONSENT_GRANTED,
        peer,
        actor_id=user_id,
        target_id=client_id,
        details={"scope": " ".join(scopes), "resource": " ".join(resources)},
    )
    return consent


async def refuse_consent(
    stores: Tx, *, user_id: str, client_id: str, peer: Peer
) -> None:
    await audit.record(
        stores,
        audit.Action.CONSENT_DENIED,
        peer,
        actor_id=user_id,
        target_id=client_id,
    )


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    """A client the person consented to, as Settings → Authorized apps lists it."""

    client_id: str
    name: str
    scope: str
    granted_at: datetime
    #: its newest refresh (``None``: no live refresh token)
    last_used_at: datetime | None


async def client_name(stores: Tx, client_id: str) -> str:
    """What to call a client on a person's lists: its registered name, or its
    id (a client metadata document's URL) when it is not stored."""
    found = await stores.clients.get(client_id)
    return found.name if found else client_id


async def authorized_apps(stores: Tx, user_id: str) -> list[AuthorizedApp]:
    heads = await stores.refresh_tokens.live_heads(user_id, clock.now())
    last_used: dict[str, datetime] = {}
    for head in heads:  # newest first: the first of each client is its last use
        last_used.setdefault(head.client_id or "", head.created_at)
    return [
        AuthorizedApp(
            client_id=c.client_id,
            name=await client_name(stores, c.client_id),
            scope=c.scope,
            granted_at=c.created_at,
            last_used_at=last_used.get(c.client_id),
        )
        for c in await stores.consents.list_for_user(user_id)
    ]


async def withdraw_consent(
    stores: Tx,
    *,
    user_id: str,
    client_id: str,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """Forget what the person allowed the client and revoke every token it
    holds for them: its refresh families, and its access tokens (by grant id,
    refused from the next request on). The client must ask for consent again.
    A client the person never consented to is not found."""
    if not await stores.consents.delete(user_id, client_id):
        raise NotFound("No such authorized app.")
    families = await revoke_user_grants(
        stores, user_id, client_id=client_id, access_ttl=access_ttl
    )
    await audit.record(
        stores,
        audit.Action.CONSENT_WITHDRAWN,
        peer,
        actor_id=user_id,
        target_id=client_id,
        details={"grants": families},
    )
