"""Passkeys: WebAuthn credentials (W3C WebAuthn Level 3), for signing in with
no password and as a second factor.

The ceremonies are py_webauthn's; this module holds what it leaves to the
relying party:

- **The relying party** is the public URL's host, its origin the public URL's
  (§5.1.3 step 9, §7.1 step 9). An IP address cannot be an RP id (§5.1.4.1,
  the id is a *valid domain string*), so with one there are no passkeys
  (:func:`relying_party` answers ``None``).
- **Challenges** travel in a sealed ticket (``domain.sealing``) the client
  carries from the options to the answer, so any instance can finish what
  another began; the step that finishes it marks it used (``domain.replay``),
  so a captured answer cannot be played again (§13.4.3).
- **Registration** asks for a discoverable credential (residentKey required,
  §5.4.6) so that signing in needs no username, prefers user verification,
  excludes the person's existing credentials (§5.4 ``excludeCredentials``) and
  asks for no attestation (``none``): Authgate trusts no authenticator model
  over another.
- **The user handle** is the account id: opaque, never the username or email
  (§14.6.1). A discoverable assertion's handle must name the passkey's owner
  (§7.2 step 6).
- **The signature counter** (§6.1.1): when the stored and presented counts are
  both non-zero and the new one is not greater, two authenticators hold the
  same key; the assertion is refused and audited as a suspected clone.
- **What a passkey proves** (RFC 8176): ``hwk`` when bound to its device,
  ``swk`` when it may be synced (backup eligible, §6.1.3), ``user`` (presence),
  and with user verification ``pin`` and ``mfa``: something held, unlocked by
  something known or inherent.
"""

import ipaddress
import json
import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authgate.domain import assurance, audit, replay
from authgate.domain.context import Peer
from authgate.domain.sealing import Sealer
from authgate.errors import Conflict, InvalidRequest, NotFound
from authgate.util import clock
from authgate.util.ids import new_id

#: How long a ceremony's options stay good (the browser's timeout hint too).
CEREMONY_TTL = timedelta(minutes=5)
REGISTER = "webauthn-register"
SIGN_IN = "webauthn-signin"
NAME_MAX = 100
#: Enough for every device and security key a person owns; a bound on what
#: one account can store, and on the list every registration sends back.
MAX_PER_PERSON = 25
TOO_MANY = (
    f"You have {MAX_PER_PERSON} passkeys already, the most one account can have: "
    "remove one you no longer use first."
)
#: What a refused registration says: nothing about why a signature failed.
NOT_REGISTERED = (
    "The passkey could not be added: the request expired or was already used, "
    "or the browser's answer was not valid. Try again."
)
#: What a refused assertion says, whatever the reason (no account leak).
NOT_RECOGNISED = "That passkey was not accepted. Try again, or sign in another way."
_CHALLENGE_BYTES = 32


@dataclass(frozen=True, slots=True)
class RelyingParty:
    id: str  #: the public URL's host
    name: str  #: shown by the browser's passkey dialog
    origin: str  #: the public URL's origin


def relying_party(public_url: str, name: str) -> RelyingParty | None:
    """This server as a relying party; ``None`` when it is reached by an IP
    address, which cannot be an RP id."""
    parts = urlsplit(public_url)
    host = (parts.hostname or "").lower()
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        scheme = parts.scheme.lower()
        # As a browser serialises an origin (RFC 6454 §6.1): no default port.
        default = {"http": 80, "https": 443}.get(scheme)
        port = f":{parts.port}" if parts.port not in (None, default) else ""
        return RelyingParty(id=host, name=name, origin=f"{scheme}://{host}{port}")
    return None


@dataclass(frozen=True, slots=True)
class Passkey:
    id: str
    user_id: str
    credential_id: str  #: base64url, as browsers name it
    public_key: bytes  #: COSE
    sign_count: int
    transports: tuple[str, ...]
    aaguid: str
    backed_up: bool  #: may leave its device (synced): ``swk``, else ``hwk``
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Used:
    """A passkey that just signed an assertion, and what that proves."""

    passkey: Passkey
    amr: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ceremony:
    """What the browser needs to start a ceremony: the options for
    ``navigator.credentials.create/get`` (JSON), and the ticket to send back."""

    options: dict[str, Any]
    ticket: str


class PasskeyStore(Protocol):
    async def add(self, passkey: Passkey) -> None:
        """Raises ``Conflict`` when the credential id is registered already."""

    async def for_user(self, user_id: str) -> list[Passkey]:
        """Oldest first."""

    async def by_credential_id(self, credential_id: str) -> Passkey | None: ...

    async def rename(self, user_id: str, passkey_id: str, name: str) -> bool:
        """``False`` when the user has no such passkey."""

    async def remove(self, user_id: str, passkey_id: str) -> bool:
        """``False`` when the user has no such passkey."""

    async def used(
        self, passkey_id: str, sign_count: int, backed_up: bool, at: datetime
    ) -> None: ...


class Tx(audit.Tx, replay.Tx, Protocol):
    @property
    def passkeys(self) -> PasskeyStore: ...


def new_challenge() -> bytes:
    return os.urandom(_CHALLENGE_BYTES)


def user_handle(user_id: str) -> bytes:
    return user_id.encode()


def _descriptors(found: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports if t in known],
        )
        for p in found
    ]


def _json(options: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(options_to_json(options))
    return loaded


def registration_options(
    rp: RelyingParty,
    *,
    user_id: str,
    username: str,
    existing: list[Passkey],
    challenge: bytes,
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (JSON) for one more passkey."""
    return _json(
        generate_registration_options(
            rp_id=rp.id,
            rp_name=rp.name,
            user_id=user_handle(user_id),
            user_name=username,
            challenge=challenge,
            timeout=int(CEREMONY_TTL.total_seconds() * 1000),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=_descriptors(existing),
        )
    )


def request_options(
    rp: RelyingParty, passkeys_of_user: list[Passkey] | None, challenge: bytes
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions (JSON): for a known person's passkeys
    (a second factor), or ``None`` for any discoverable one (no username)."""
    return _json(
        generate_authentication_options(
            rp_id=rp.id,
            challenge=challenge,
            timeout=int(CEREMONY_TTL.total_seconds() * 1000),
            allow_credentials=_descriptors(passkeys_of_user or []),
            user_verification=UserVerificationRequirement.PREFERRED,
        )
    )


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """A passkey asked for as the second step of a sign-in: the options for
    ``navigator.credentials.get`` (the person's own passkeys), and the
    challenge (base64url) for the step's own single-use ticket to keep."""

    options: dict[str, Any]
    challenge: str


async def second_factor(
    stores: Tx, rp: RelyingParty, user_id: str, *, challenge: str | None = None
) -> SecondFactor | None:
    """A new challenge, or ``challenge`` offered again (the same step, shown
    once more); ``None`` when the person has no passkey to offer."""
    found = await stores.passkeys.for_user(user_id)
    if not found:
        return None
    drawn = new_challenge() if challenge is None else base64url_to_bytes(challenge)
    return SecondFactor(request_options(rp, found, drawn), bytes_to_base64url(drawn))


async def verify_second_factor(
    stores: Tx,
    rp: RelyingParty,
    *,
    challenge: str,
    credential: dict[str, Any],
    user_id: str,
    peer: Peer,
) -> Used | None:
    """:func:`verify_assertion` for :func:`second_factor`'s challenge; the
    caller's ticket, used once, carried it."""
    return await verify_assertion(
        stores,
        rp,
        expected_challenge=base64url_to_bytes(challenge),
        credential=credential,
        user_id=user_id,
        peer=peer,
    )


def begin_registration(
    sealer: Sealer,
    rp: RelyingParty,
    *,
    user_id: str,
    username: str,
    existing: list[Passkey],
) -> Ceremony:
    """Options for a new passkey, and a ticket bound to the person."""
    challenge = new_challenge()
    options = registration_options(
        rp, user_id=user_id, username=username, existing=existing, challenge=challenge
    )
    data = {"challenge": bytes_to_base64url(challenge), "user": user_id}
    return Ceremony(options, sealer.ticket(REGISTER, data, CEREMONY_TTL))


def begin_sign_in(sealer: Sealer, rp: RelyingParty) -> Ceremony:
    """Options for a password-less sign-in with any discoverable passkey."""
    challenge = new_challenge()
    options = request_options(rp, None, challenge)
    data = {"challenge": bytes_to_base64url(challenge)}
    return Ceremony(options, sealer.ticket(SIGN_IN, data, CEREMONY_TTL))


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidRequest("Give the passkey a name.")
    if len(cleaned) > NAME_MAX:
        raise InvalidRequest(f"A passkey's name has at most {NAME_MAX} characters.")
    return cleaned


async def _challenge(stores: Tx, sealer: Sealer, purpose: str, text: str) -> Any:
    """The ticket's data, once; ``None`` when altered, expired or used."""
    ticket = sealer.open_ticket(purpose, text)
    if ticket is None or not await replay.use_once(
        stores, ticket.id, ticket.expires_at
    ):
        return None
    return ticket.data


async def register(
    stores: Tx,
    sealer: Sealer,
    rp: RelyingParty,
    *,
    user_id: str,
    ticket: str,
    credential: dict[str, Any],
    name: str,
    peer: Peer,
) -> Passkey:
    """Add the passkey the browser just made, once its attestation checks out
    against the ticket's challenge, for the person the ticket was made for.
    A refusal rolls the transaction back, so only a registration that
    succeeds spends its ticket (it is bound to the person, who is signed in)."""
    name = check_name(name)
    data = await _challenge(stores, sealer, REGISTER, ticket)
    if data is None or data.get("user") != user_id:
        raise InvalidRequest(NOT_REGISTERED)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=base64url_to_bytes(data["challenge"]),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(NOT_REGISTERED) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if await stores.passkeys.by_credential_id(credential_id) is not None:
        raise Conflict("That passkey is registered already.")
    if len(await stores.passkeys.for_user(user_id)) >= MAX_PER_PERSON:
        raise Conflict(TOO_MANY)
    passkey = Passkey(
        id=new_id("pk"),
        user_id=user_id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=tuple(t.value for t in parsed.response.transports or ()),
        aaguid=verified.aaguid,
        backed_up=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        name=name,
        created_at=clock.now(),
    )
    await stores.passkeys.add(passkey)
    await audit.record(
        stores,
        audit.Action.PASSKEY_ADDED,
        peer,
        actor_id=user_id,
        target_id=passkey.id,
        details={"name": name},
    )
    return passkey


async def sign_in(
    stores: Tx,
    sealer: Sealer,
    rp: RelyingParty,
    *,
    ticket: str,
    credential: dict[str, Any],
    peer: Peer,
) -> Used | None:
    """A password-less sign-in's assertion, against the ticket's challenge;
    ``None`` when refused (audited: the caller commits, then refuses)."""
    data = await _challenge(stores, sealer, SIGN_IN, ticket)
    if data is None:
        await _failed(stores, peer, None, "challenge")
        return None
    return await verify_assertion(
        stores,
        rp,
        expected_challenge=base64url_to_bytes(data["challenge"]),
        credential=credential,
        user_id=None,
        peer=peer,
    )


def _amr(backed_up: bool, user_verified: bool) -> tuple[str, ...]:
    held = assurance.SWK if backed_up else assurance.HWK
    unlocked = (assurance.PIN, assurance.MFA) if user_verified else ()
    return tuple(sorted((held, assurance.USER, *unlocked)))


async def verify_assertion(
    stores: Tx,
    rp: RelyingParty,
    *,
    expected_challenge: bytes,
    credential: dict[str, Any],
    user_id: str | None,
    peer: Peer,
) -> Used | None:
    """The passkey that signed ``credential`` over ``expected_challenge``:
    ``user_id``'s (a second factor), or anyone's whose user handle names its
    owner (``None``: a discoverable sign-in). ``None`` when refused, audited;
    the caller has checked the challenge is used once."""
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        await _failed(stores, peer, user_id, "malformed")
        return None
    passkey = await stores.passkeys.by_credential_id(bytes_to_base64url(parsed.raw_id))
    handle = parsed.response.user_handle
    if (
        passkey is None
        or (user_id is not None and passkey.user_id != user_id)
        or (user_id is None and handle is None)
        or (handle is not None and handle != user_handle(passkey.user_id))
    ):
        await _failed(stores, peer, user_id, "unknown_credential")
        return None
    try:
        # The counter is judged below, after the signature, so that only the
        # key's holder can raise a clone alarm.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        await _failed(stores, peer, passkey.user_id, "signature", passkey.id)
        return None
    count = verified.new_sign_count
    if passkey.sign_count and count and count <= passkey.sign_count:
        await audit.record(
            stores,
            audit.Action.PASSKEY_CLONE_SUSPECTED,
            peer,
            actor_id=passkey.user_id,
            target_id=passkey.id,
            details={"stored": passkey.sign_count, "presented": count},
        )
        return None
    backed_up = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    now = clock.now()
    await stores.passkeys.used(passkey.id, count, backed_up, now)
    used = replace(passkey, sign_count=count, backed_up=backed_up, last_used_at=now)
    return Used(passkey=used, amr=_amr(backed_up, verified.user_verified))


async def _failed(
    stores: Tx,
    peer: Peer,
    user_id: str | None,
    reason: str,
    passkey_id: str | None = None,
) -> None:
    await audit.record(
        stores,
        audit.Action.PASSKEY_FAILED,
        peer,
        actor_id=user_id,
        target_id=passkey_id,
        details={"reason": reason},
    )


async def listed(stores: Tx, user_id: str) -> list[Passkey]:
    return await stores.passkeys.for_user(user_id)


async def has_passkey(stores: Tx, user_id: str) -> bool:
    """Whether the person can give a passkey as a second factor."""
    return bool(await stores.passkeys.for_user(user_id))


async def rename(
    stores: Tx, user_id: str, passkey_id: str, name: str, *, peer: Peer
) -> None:
    name = check_name(name)
    if not await stores.passkeys.rename(user_id, passkey_id, name):
        raise NotFound("No such passkey.")
    await audit.record(
        stores,
        audit.Action.PASSKEY_RENAMED,
        peer,
        actor_id=user_id,
        target_id=passkey_id,
        details={"name": name},
    )


async def remove(stores: Tx, user_id: str, passkey_id: str, *, peer: Peer) -> None:
    if not await stores.passkeys.remove(user_id, passkey_id):
        raise NotFound("No such passkey.")
    await audit.record(
        stores,
        audit.Action.PASSKEY_REMOVED,
        peer,
        actor_id=user_id,
        target_id=passkey_id,
    )


def parse_credential(text: str) -> dict[str, Any]:
    """A browser's credential as the form or API sent it (JSON text)."""
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(NOT_RECOGNISED) from exc
    if not isinstance(found, dict):
        raise InvalidRequest(NOT_RECOGNISED)
    return found
