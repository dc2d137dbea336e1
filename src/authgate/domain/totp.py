"""Authenticator apps: time-based one-time passwords (RFC 6238).

A person enrols by scanning a new secret (160 bits, the HMAC-SHA1 key length
RFC 4226 §4 recommends) and proving it with a first code; until then the
factor is unconfirmed and counts for nothing. The secret is sealed at rest
(``domain.sealing``, the user id as associated data, so a row copied onto
another account does not open). A code is accepted for the step before, the
current step and the step after (RFC 6238 §5.2's advice on clock drift), and
only once: the store records the step of the last accepted code and refuses
any step at or before it, in one conditional update, so a code seen over a
shoulder or replayed by a proxy is refused even by a racing request
(RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP
after the successful validation has been issued for the first OTP").
"""

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pyotp

from authgate.domain import audit
from authgate.domain.context import Peer
from authgate.domain.sealing import Resealed, Sealer, reseal_all
from authgate.errors import Conflict, InvalidRequest
from authgate.util import clock

DIGITS = 6  #: RFC 4226 §5.3: at least six
PERIOD = 30  #: seconds, RFC 6238 §5.2's recommended time step
SKEW = 1  #: steps accepted either side of the current one
_SECRET_BYTES = 20  #: 160 bits (RFC 4226 §4, R6)


@dataclass(frozen=True, slots=True)
class TotpFactor:
    user_id: str
    sealed_secret: bytes
    created_at: datetime
    confirmed_at: datetime | None = None
    last_step: int | None = None  #: the step of the last accepted code

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the person copies into their app, shown once."""

    secret: str  #: base32, as apps take it typed in
    uri: str  #: the ``otpauth://`` URI the QR code holds


class TotpStore(Protocol):
    async def get(self, user_id: str) -> TotpFactor | None: ...

    async def sealed_secrets(self) -> list[tuple[str, bytes]]:
        """Every factor's ``(user_id, sealed_secret)``, confirmed or not."""

    async def replace_sealed(self, user_id: str, sealed_secret: bytes) -> None:
        """Store a factor's secret sealed anew (a secret rotation), leaving
        its state (confirmed, last step) as it is."""

    async def put_unconfirmed(self, factor: TotpFactor) -> bool:
        """Store a new unconfirmed factor, replacing an unconfirmed one;
        ``False`` (nothing written) when a confirmed one exists."""

    async def confirm(self, user_id: str, at: datetime, step: int) -> bool:
        """Confirm the unconfirmed factor, recording ``step`` as used;
        ``False`` when there is none (or it was confirmed concurrently)."""

    async def use_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used on the confirmed factor if it is later than
        the last one used, in one conditional update; ``False`` otherwise
        (none, unconfirmed, or the step, or a later one, was used already,
        even by a concurrent transaction)."""

    async def delete(self, user_id: str) -> bool:
        """Remove the factor, confirmed or not; ``False`` when there was none."""


class Tx(audit.Tx, Protocol):
    @property
    def totp(self) -> TotpStore: ...


def _context(user_id: str) -> bytes:
    return f"authgate/totp/{user_id}".encode()


async def reseal(stores: Tx, sealer: Sealer) -> Resealed:
    """Every stored secret sealed under the current server secret."""
    rows = await stores.totp.sealed_secrets()
    return await reseal_all(rows, sealer, _context, stores.totp.replace_sealed)


async def begin(
    stores: Tx, sealer: Sealer, *, user_id: str, account: str, issuer: str
) -> Enrolment:
    """A new secret for ``user_id``, replacing one never confirmed. A confirmed
    one must be removed first, so an unattended session cannot silently swap
    the person's authenticator. ``account`` and ``issuer`` label the entry in
    the app."""
    enrolment = new(account=account, issuer=issuer)
    await _put_unconfirmed(stores, sealer, user_id, enrolment.secret)
    return enrolment


def new(*, account: str, issuer: str) -> Enrolment:
    """A new secret, not stored anywhere yet (a sign-in that must enrol
    carries it sealed in its ticket until it is proved: :func:`enrol`)."""
    secret = pyotp.random_base32(length=_SECRET_BYTES * 8 // 5)
    return _enrolment(secret, account, issuer)


async def _put_unconfirmed(
    stores: Tx, sealer: Sealer, user_id: str, secret: str
) -> None:
    factor = TotpFactor(
        user_id=user_id,
        sealed_secret=sealer.seal(secret.encode(), _context(user_id)),
        created_at=clock.now(),
    )
    if not await stores.totp.put_unconfirmed(factor):
        raise Conflict("An authenticator app is already set up: remove it first.")


async def pending(
    stores: Tx, sealer: Sealer, *, user_id: str, account: str, issuer: str
) -> Enrolment | None:
    """The enrolment begun and not confirmed yet, shown again until it is (a
    mistyped first code, a reloaded page); ``None`` when there is none."""
    factor = await stores.totp.get(user_id)
    if factor is None or factor.confirmed:
        return None
    secret = sealer.open(factor.sealed_secret, _context(user_id))
    if secret is None:
        return None
    return _enrolment(secret.decode(), account, issuer)


def _enrolment(secret: str, account: str, issuer: str) -> Enrolment:
    uri = _totp(secret).provisioning_uri(name=account, issuer_name=issuer)
    return Enrolment(secret=secret, uri=uri)


async def confirm(
    stores: Tx, sealer: Sealer, *, user_id: str, code: str, peer: Peer
) -> None:
    """Confirm the pending enrolment with its first code (which is then used)."""
    factor = await stores.totp.get(user_id)
    if factor is None or factor.confirmed:
        raise InvalidRequest("Start setting up an authenticator app first.")
    step = matching_step(factor, sealer, code)
    if step is None or not await stores.totp.confirm(user_id, clock.now(), step):
        raise InvalidRequest(
            "That code is not right. Check the app's clock and try the current code."
        )
    await audit.record(
        stores,
        audit.Action.FACTOR_ENROLLED,
        peer,
        actor_id=user_id,
        target_id=user_id,
        details={"factor": "totp"},
    )


async def enrol(
    stores: Tx, sealer: Sealer, *, user_id: str, secret: str, code: str, peer: Peer
) -> None:
    """Store ``secret`` (from :func:`new`) confirmed by its first ``code``, in
    one go: the sign-in that must enrol never leaves a pending secret behind
    for someone else's sign-in to show."""
    await _put_unconfirmed(stores, sealer, user_id, secret)
    await confirm(stores, sealer, user_id=user_id, code=code, peer=peer)


async def check(stores: Tx, sealer: Sealer, *, user_id: str, code: str) -> bool:
    """Whether ``code`` is a current code of the confirmed factor not used
    before; if so it is used now."""
    factor = await stores.totp.get(user_id)
    if factor is None or not factor.confirmed:
        return False
    step = matching_step(factor, sealer, code)
    return step is not None and await stores.totp.use_step(user_id, step)


async def remove(stores: Tx, *, user_id: str, actor_id: str, peer: Peer) -> bool:
    """Remove the factor; ``False`` when there was none."""
    if not await stores.totp.delete(user_id):
        return False
    await audit.record(
        stores,
        audit.Action.FACTOR_REMOVED,
        peer,
        actor_id=actor_id,
        target_id=user_id,
        details={"factor": "totp"},
    )
    return True


def matching_step(factor: TotpFactor, sealer: Sealer, code: str) -> int | None:
    """The time step ``code`` is the code of, within the allowed skew and
    after the last step used; ``None`` otherwise. Every candidate is compared
    in constant time, and all are compared, so timing tells nothing of which
    matched."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    secret = sealer.open(factor.sealed_secret, _context(factor.user_id))
    if secret is None:
        return None
    totp = _totp(secret.decode())
    now = totp.timecode(clock.now())
    found = None
    for step in range(now - SKEW, now + SKEW + 1):
        if hmac.compare_digest(code.encode(), totp.generate_otp(step).encode()):
            found = step
    if found is None or (factor.last_step is not None and found <= factor.last_step):
        return None
    return found


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
