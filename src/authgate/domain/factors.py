"""Second factors: which a person has, and the second step of a sign-in.

A sign-in whose first step (a password, an upstream provider that did not do
MFA) succeeds for an account with a confirmed factor does not open a session:
it hands the client an *mfa ticket*, a short-lived sealed statement of who
passed which first step (``domain.sealing``), which the second step presents
with a proof. The ticket is bound to the account and the first step's
methods, opens on any instance, and is used once (``domain.replay``) by the
step that succeeds; a wrong proof leaves it usable until it expires, so a typo
does not send the person back to their password, while each wrong proof
counts towards the account's sign-in lockout (``domain.lockout``, the same
counter as wrong passwords) and is audited (OWASP ASVS 2.2.1). The password
step does not clear that counter for an account with a factor, only a passed
second step does, so someone holding the password cannot reset the count
between guesses.

Where every account must have a factor (``AUTHGATE_REQUIRE_MFA``), a first
step for an account with none hands out an *enrolment* ticket instead: it
carries a new authenticator-app secret, sealed, and the second step is that
app's first code, which stores the secret confirmed and opens the session in
one go (:func:`enrol`). Nothing is written before then, so a sign-in
abandoned half way leaves no pending secret for another sign-in to show.

A passkey as the second step (``domain.passkeys``) answers a challenge: the
first step draws it and keeps it in the ticket, so the assertion is checked
against the challenge this sign-in was given, on any instance, and the
ticket's single use makes the assertion single-use too.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from authgate.domain import (
    assurance,
    audit,
    lockout,
    notices,
    passkeys,
    recovery_codes,
    replay,
    sessions,
    totp,
    users,
)
from authgate.domain.context import Peer
from authgate.domain.sealing import Sealer, Ticket
from authgate.errors import Conflict, InvalidRequest

TOTP = "totp"  #: a code from an authenticator app (``domain.totp``)
RECOVERY_CODE = "recovery_code"  #: one of the person's recovery codes
#: a passkey or security key (``domain.passkeys``)
WEBAUTHN = "webauthn"
#: every method a second step may name, in the order they are offered
METHODS = (TOTP, WEBAUTHN, RECOVERY_CODE)

#: what each code proves (RFC 8176); a passkey says what it proves itself
_AMR = {TOTP: (assurance.OTP,), RECOVERY_CODE: (assurance.OTP,)}

#: a proof of the wrong kind for its method
WRONG_PROOF = (
    "A passkey (method webauthn) is answered with an assertion, a code "
    "(totp, recovery_code) with a code: send the one the method takes."
)

TICKET_PURPOSE = "mfa"
#: long enough to find a phone, short enough that a stolen ticket soon dies
TICKET_TTL = timedelta(minutes=5)
#: an enrolment's: long enough to install an app first
ENROL_TTL = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Keys:
    """The secrets this module works with, each derived for its one use."""

    tickets: Sealer
    totp: Sealer
    codes: recovery_codes.Digester


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in waiting for its second step, as its ticket says."""

    ticket: Ticket
    user_id: str
    amr: tuple[str, ...]  #: what the first step proved
    #: a live session to re-authenticate instead of opening one (a step-up)
    session_id: str | None = None
    #: how the first step signed in (an upstream provider), for the session
    method: str | None = None
    #: the passkey challenge this step was offered (base64url), if any
    challenge: str | None = None
    #: the app to set up, when this step enrols the first factor
    enrolment: totp.Enrolment | None = None


@dataclass(frozen=True, slots=True)
class SecondStep:
    """A second step to take: its ticket, the methods it accepts (in
    offering order), and the options for ``navigator.credentials.get`` when
    a passkey is one of them (PublicKeyCredentialRequestOptions, JSON);
    or, when the person must set up a first factor (:func:`enrolment`), the
    authenticator app to set up, whose first code is the step's proof."""

    mfa_token: str
    methods: tuple[str, ...]
    webauthn: dict[str, Any] | None = None
    enrolment: totp.Enrolment | None = None


@dataclass(frozen=True, slots=True)
class Enrolled:
    """A sign-in finished by enrolling its first factor."""

    amr: tuple[str, ...]
    recovery_codes: list[str]  #: shown once, now


@dataclass(frozen=True, slots=True)
class Summary:
    """What a person's settings show of their second factors."""

    totp: bool  #: a confirmed authenticator app
    totp_pending: bool  #: one being set up, not confirmed yet
    passkeys: int
    recovery_codes_left: int


class Tx(totp.Tx, recovery_codes.Tx, users.Tx, passkeys.Tx, notices.Tx, Protocol):
    pass


async def summary(stores: Tx, user_id: str) -> Summary:
    factor = await stores.totp.get(user_id)
    return Summary(
        totp=factor is not None and factor.confirmed,
        totp_pending=factor is not None and not factor.confirmed,
        passkeys=len(await passkeys.listed(stores, user_id)),
        recovery_codes_left=await stores.recovery_codes.remaining(user_id),
    )


async def methods(stores: Tx, user_id: str) -> tuple[str, ...]:
    """The methods a second step may use for ``user_id``, in offering order;
    empty when the person has no second factor (recovery codes alone are
    not one: they stand in for a factor)."""
    found: list[str] = []
    factor = await stores.totp.get(user_id)
    if factor is not None and factor.confirmed:
        found.append(TOTP)
    if await passkeys.has_passkey(stores, user_id):
        found.append(WEBAUTHN)
    if found and await stores.recovery_codes.remaining(user_id):
        found.append(RECOVERY_CODE)
    return tuple(found)


async def has_factor(stores: Tx, user_id: str) -> bool:
    """Whether ``user_id`` has a second factor: a sign-in needs a second step,
    a step-up asks for one."""
    return bool(await methods(stores, user_id))


async def begin(
    stores: Tx,
    sealer: Sealer,
    rp: passkeys.RelyingParty | None,
    user_id: str,
    amr: tuple[str, ...],
    *,
    session_id: str | None = None,
    method: str | None = None,
) -> SecondStep:
    """The second step a first step hands out for ``user_id`` (who has a
    factor). Passkeys are offered only where there is a relying party (not
    on a server reached by an IP address)."""
    offered, passkey = await _offer(stores, rp, user_id, None)
    text = ticket(
        sealer,
        user_id,
        amr,
        session_id=session_id,
        method=method,
        challenge=passkey.challenge if passkey else None,
    )
    return SecondStep(text, offered, passkey.options if passkey else None)


def enrolment(
    sealer: Sealer,
    user_id: str,
    amr: tuple[str, ...],
    *,
    account: str,
    issuer: str,
    method: str | None = None,
) -> SecondStep:
    """The step a first step hands out when ``user_id`` has no factor and
    must have one: a new authenticator app to set up (labelled ``account``
    at ``issuer`` in the app), carried in the ticket until :func:`enrol`."""
    app = totp.new(account=account, issuer=issuer)
    text = ticket(sealer, user_id, amr, method=method, enrolment=app)
    return SecondStep(text, (TOTP,), enrolment=app)


async def again(
    stores: Tx, rp: passkeys.RelyingParty | None, text: str, pending: Pending
) -> SecondStep:
    """The same step, ticket ``text``, offered again (after a wrong proof):
    a passkey with the ticket's own challenge, the one its answer must sign;
    an enrolment with the ticket's own app."""
    if pending.enrolment is not None:
        return SecondStep(text, (TOTP,), enrolment=pending.enrolment)
    challenge = pending.challenge
    offered, passkey = await _offer(
        stores, rp if challenge else None, pending.user_id, challenge
    )
    return SecondStep(text, offered, passkey.options if passkey else None)


async def _offer(
    stores: Tx,
    rp: passkeys.RelyingParty | None,
    user_id: str,
    challenge: str | None,
) -> tuple[tuple[str, ...], passkeys.SecondFactor | None]:
    offered = await methods(stores, user_id)
    passkey = None
    if rp is not None and WEBAUTHN in offered:
        passkey = await passkeys.second_factor(stores, rp, user_id, challenge=challenge)
    if passkey is None:
        offered = tuple(m for m in offered if m != WEBAUTHN)
    return offered, passkey


def ticket(
    sealer: Sealer,
    user_id: str,
    amr: tuple[str, ...],
    *,
    session_id: str | None = None,
    method: str | None = None,
    challenge: str | None = None,
    enrolment: totp.Enrolment | None = None,
) -> str:
    """The mfa ticket a first step hands out (:func:`begin`, :func:`enrolment`)."""
    data: dict[str, object] = {"user": user_id, "amr": list(amr)}
    if session_id is not None:
        data["session"] = session_id
    if method is not None:
        data["method"] = method
    if challenge is not None:
        data["challenge"] = challenge
    if enrolment is not None:
        data["enrol"] = {"secret": enrolment.secret, "uri": enrolment.uri}
    ttl = TICKET_TTL if enrolment is None else ENROL_TTL
    return sealer.ticket(TICKET_PURPOSE, data, ttl)


def open_ticket(sealer: Sealer, text: str) -> Pending | None:
    """The pending sign-in; ``None`` when the ticket was altered, made for
    something else, or has expired (whether it was used is decided when it
    is: :func:`prove`)."""
    found = sealer.open_ticket(TICKET_PURPOSE, text)
    if found is None:
        return None
    data = found.data
    session_id, method = data.get("session"), data.get("method")
    challenge, enrol = data.get("challenge"), data.get("enrol")
    return Pending(
        ticket=found,
        user_id=str(data["user"]),
        amr=tuple(str(m) for m in data["amr"]),
        session_id=str(session_id) if session_id is not None else None,
        method=str(method) if method is not None else None,
        challenge=str(challenge) if challenge is not None else None,
        enrolment=totp.Enrolment(secret=str(enrol["secret"]), uri=str(enrol["uri"]))
        if isinstance(enrol, dict)
        else None,
    )


def combined(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """The methods of both steps, sorted, with ``mfa`` (RFC 8176 §2)."""
    return tuple(sorted({*first, *second, assurance.MFA}))


class TicketUsed(Exception):
    """The ticket's second step was already passed: it opens nothing again."""


async def prove(
    stores: Tx,
    keys: Keys,
    policy: lockout.Policy,
    pending: Pending,
    *,
    method: str,
    proof: str | dict[str, Any],
    rp: passkeys.RelyingParty | None,
    peer: Peer,
) -> tuple[str, ...] | None:
    """Check the second step's ``proof`` by ``method`` (a code, or for
    ``webauthn`` the browser's assertion, checked by relying party ``rp``):
    the combined amr when it passes (the ticket is then used), ``None`` when
    refused (a wrong proof, a locked or disabled account): the caller
    commits, so the failure counted and its audit entry are kept. Raises
    :class:`TicketUsed` for a ticket already used (rolling back: the proof is
    not spent on it)."""
    if method not in METHODS:
        raise InvalidRequest(f"The method must be one of: {', '.join(METHODS)}.")
    if pending.enrolment is not None:
        raise InvalidRequest(ENROL_FIRST)
    if isinstance(proof, dict) != (method == WEBAUTHN):
        raise InvalidRequest(WRONG_PROOF)
    user = await stores.users.get(pending.user_id)
    if user is None:
        return None
    failures = await stores.lockout.find(user.username)
    locked = failures is not None and failures.locked()
    proved = None
    if not locked and user.active and method in await methods(stores, user.id):
        proved = await _check(stores, keys, rp, pending, method, proof, peer)
    if proved is None:
        await _refused(stores, policy, user, method, locked=locked, peer=peer)
        return None
    if not await replay.use_once(stores, pending.ticket.id, pending.ticket.expires_at):
        raise TicketUsed
    if failures is not None:
        await stores.lockout.clear(user.username)
    return combined(pending.amr, proved)


ENROL_FIRST = (
    "This sign-in sets up an authenticator app: send the app's first code "
    "(method totp)."
)


async def enrol(
    stores: Tx,
    keys: Keys,
    pending: Pending,
    *,
    method: str,
    code: str,
    peer: Peer,
) -> Enrolled | None:
    """Finish an enrolment ticket's sign-in with the first ``code`` of the
    app it carries: the app is stored confirmed, with the first recovery
    codes, and the ticket used. ``None`` for a locked or disabled account;
    a wrong code raises ``InvalidRequest`` (rolling back: nothing is
    guessed here, the ticket's holder was shown the secret). Raises
    :class:`TicketUsed` for a ticket already used, or overtaken by a factor
    set up meanwhile."""
    if pending.enrolment is None or method != TOTP:
        raise InvalidRequest(ENROL_FIRST)
    user = await stores.users.get(pending.user_id)
    if user is None or not user.active:
        return None
    failures = await stores.lockout.find(user.username)
    if failures is not None and failures.locked():
        return None
    if await has_factor(stores, user.id):
        raise TicketUsed
    await totp.enrol(
        stores,
        keys.totp,
        user_id=user.id,
        secret=pending.enrolment.secret,
        code=code,
        peer=peer,
    )
    if not await replay.use_once(stores, pending.ticket.id, pending.ticket.expires_at):
        raise TicketUsed
    codes = await enrolled(stores, keys, user_id=user.id, first=True, peer=peer)
    return Enrolled(combined(pending.amr, (assurance.OTP,)), codes or [])


async def _check(
    stores: Tx,
    keys: Keys,
    rp: passkeys.RelyingParty | None,
    pending: Pending,
    method: str,
    proof: str | dict[str, Any],
    peer: Peer,
) -> tuple[str, ...] | None:
    """What ``proof`` proves, ``None`` when it is wrong."""
    user_id = pending.user_id
    if isinstance(proof, dict):
        if rp is None or pending.challenge is None:
            return None  # no passkey was offered to this step
        used = await passkeys.verify_second_factor(
            stores,
            rp,
            challenge=pending.challenge,
            credential=proof,
            user_id=user_id,
            peer=peer,
        )
        return used.amr if used else None
    if method == TOTP:
        ok = await totp.check(stores, keys.totp, user_id=user_id, code=proof)
    else:
        ok = await recovery_codes.use(
            stores, keys.codes, user_id=user_id, code=proof, peer=peer
        )
    return _AMR[method] if ok else None


async def _refused(
    stores: Tx,
    policy: lockout.Policy,
    user: users.User,
    method: str,
    *,
    locked: bool,
    peer: Peer,
) -> None:
    just_locked = not locked and await lockout.record_failure(
        stores, policy, user.username
    )
    await audit.record(
        stores,
        audit.Action.MFA_FAILED,
        peer,
        actor_id=user.id,
        details={
            "method": method,
            "reason": "locked"
            if locked
            else "wrong_code"
            if user.active
            else "disabled",
        },
    )
    if just_locked:
        await audit.record(
            stores,
            audit.Action.ACCOUNT_LOCKED,
            peer,
            target_id=user.id,
            details={"username": user.username},
        )


async def confirm_totp(
    stores: Tx, keys: Keys, *, user_id: str, code: str, peer: Peer
) -> list[str] | None:
    """Confirm a pending authenticator app; the new recovery codes when it is
    the person's first factor (shown once), else ``None``."""
    first = not await has_factor(stores, user_id)
    await totp.confirm(stores, keys.totp, user_id=user_id, code=code, peer=peer)
    return await enrolled(stores, keys, user_id=user_id, first=first, peer=peer)


async def enrolled(
    stores: Tx, keys: Keys, *, user_id: str, first: bool, peer: Peer
) -> list[str] | None:
    """After any factor is enrolled (an app, a passkey): the first one comes
    with recovery codes. What was cached of the person (an org that requires
    a factor refused them) is dropped everywhere."""
    stores.invalidate(user_id)
    if not first:
        return None
    return await recovery_codes.issue(
        stores, keys.codes, user_id=user_id, peer=peer, first=True
    )


async def remove_totp(stores: Tx, *, user_id: str, actor_id: str, peer: Peer) -> bool:
    """Remove the authenticator app; with the last factor gone, the recovery
    codes that stood in for it go too."""
    if not await totp.remove(stores, user_id=user_id, actor_id=actor_id, peer=peer):
        return False
    await _removed(stores, user_id)
    return True


async def remove_passkey(
    stores: Tx, *, user_id: str, passkey_id: str, peer: Peer
) -> None:
    """Remove one of the person's passkeys (``NotFound`` when not theirs);
    with the last factor gone, the recovery codes go too."""
    await passkeys.remove(stores, user_id, passkey_id, peer=peer)
    await _removed(stores, user_id)


async def _removed(stores: Tx, user_id: str) -> None:
    """After a factor is removed: what was cached of the person is dropped
    everywhere (an org that requires a factor may now refuse them), and
    with none left, the recovery codes that stood in for one go too."""
    stores.invalidate(user_id)
    if not await has_factor(stores, user_id):
        await recovery_codes.withdraw(stores, user_id)


async def regenerate_codes(
    stores: Tx, keys: Keys, *, user_id: str, peer: Peer
) -> list[str]:
    """New recovery codes, replacing all the old ones."""
    if not await has_factor(stores, user_id):
        raise Conflict("Set up a second factor first: recovery codes stand in for one.")
    return await recovery_codes.issue(
        stores, keys.codes, user_id=user_id, peer=peer, first=False
    )


async def reset(
    stores: Tx,
    user_id: str,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
    notify: notices.Policy,
) -> sessions.Ended:
    """An administrator's answer to a person who lost their factors: every
    authenticator app, passkey and recovery code goes, and so does every
    login, so whoever holds a session made with the lost device is out too;
    the person is told (``domain.notices``).
    The person signs in with their password alone and sets a factor up again
    (unless policy then asks for one at once)."""
    removed = [TOTP] if await stores.totp.delete(user_id) else []
    for passkey in await stores.passkeys.for_user(user_id):
        if await stores.passkeys.remove(user_id, passkey.id):
            removed.append(WEBAUTHN)
    await recovery_codes.withdraw(stores, user_id)
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.FACTORS_RESET,
        peer,
        actor_id=actor_id,
        target_id=user_id,
        details={"removed": removed},
    )
    await notices.send(
        stores,
        notify,
        notices.Kind.FACTOR_REMOVED,
        user_id,
        peer=peer,
        values={"what": "all", "by_admin": "yes"},
    )
    return await sessions.end_logins(
        stores,
        user_id,
        reason="factors_reset",
        actor_id=actor_id,
        access_ttl=access_ttl,
        peer=peer,
    )
