"""Signing in, whatever the door: a password, an upstream provider, dev login.

Every sign-in ends the same way, with a session and the refresh token bound to
it (:func:`open_session`, in the caller's transaction), so the API and the
pages sign in through this one module. How the result travels (a JSON body,
cookies, a redirect) is the web layer's (``web.session_cookies``): this is the
strategy half of fastapi-users' transport/strategy split, and it imports no
web framework. Where the browser goes once signed in stays the page's to
decide; :func:`continues_to` only tells it which client that may reach.
"""

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authgate.domain import (
    assurance,
    audit,
    factors,
    identities,
    notices,
    orgs,
    passkeys,
    refresh_tokens,
    sessions,
    users,
)
from authgate.domain.assurance import Authentication
from authgate.domain.clients import FIRST_PARTY_CLIENT_ID
from authgate.domain.context import Peer
from authgate.domain.identities import UpstreamIdentity
from authgate.domain.jwt import issue_access_token
from authgate.domain.orgs import Membership
from authgate.domain.stores import Stores
from authgate.errors import InvalidMfaToken, InvalidRequest
from authgate.oauth import authorize
from authgate.oauth.authorize import AuthorizeError
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import AUTHORIZE
from authgate.server import passkeys as webauthn
from authgate.server import second_factors
from authgate.server.principals import USER_SCOPES
from authgate.server.services import Services
from authgate.util import clock

#: The audit log's name for a password-less sign-in (``sessions.start``'s method).
PASSKEY = "passkey"


@dataclass(frozen=True, slots=True)
class Opened:
    """A session just started and the refresh token bound to it."""

    started: sessions.Started
    refresh_token: str
    #: The org the sign-in asked its tokens to act in, with the caller's role.
    org: Membership | None = None
    #: A sign-in that set up the first factor: its recovery codes, shown once.
    recovery_codes: list[str] | None = None


#: Same answer for a wrong code, a used one and a locked account.
WRONG_CODE = (
    "That code is not right, or it was used already. Too many wrong codes lock "
    "the account for a while."
)
#: The same for a passkey's answer.
WRONG_PASSKEY = (
    "That passkey was not accepted. Try again, or use another way. Too many "
    "failed attempts lock the account for a while."
)


def refused(method: str) -> str:
    """What a refused second step says, in the words of its ``method``."""
    return WRONG_PASSKEY if method == factors.WEBAUTHN else WRONG_CODE


async def open_session(
    stores: Stores,
    services: Services,
    user_id: str,
    peer: Peer,
    *,
    amr: tuple[str, ...],
    method: str | None = None,
) -> Opened:
    """What every sign-in ends with, in the caller's transaction (so a refusal
    after it undoes the session too): a session and its refresh token. ``amr``
    says how the person authenticated (``domain.assurance``). A device or place
    new to the account is told of by mail (``domain.notices``)."""
    settings = services.settings
    started = await sessions.start(
        stores,
        services.session_policy,
        user_id=user_id,
        prefix=settings.token_prefix,
        peer=peer,
        amr=amr,
        method=method,
    )
    await notices.signed_in(stores, services.notices, started.session, peer)
    refresh = await refresh_tokens.issue(
        stores,
        prefix=settings.token_prefix,
        lifetime=services.refresh_lifetime,
        user_id=user_id,
        session_id=started.session.id,
    )
    return Opened(started=started, refresh_token=refresh.secret)


async def with_password(
    services: Services,
    peer: Peer,
    username: str,
    password: str,
    *,
    org: str | None = None,
) -> Opened | factors.SecondStep | None:
    """The password sign-in's three steps (``domain.users``); ``None`` for any
    refusal, after the commit, so the failure count and audit entry are kept;
    a ``factors.SecondStep`` when the account has a second factor, or has
    none and must set one up (``AUTHGATE_REQUIRE_MFA``).

    The argon2 check runs between the look-up and the write transaction, so
    sign-ins do not hold (on SQLite: queue on) the database write lock for it.
    ``org`` (id or slug) is checked in the write transaction: refused, it
    undoes the whole sign-in."""
    async with services.db.read() as tx:
        attempt = await users.begin_sign_in(tx, username)
    attempt = await users.check_password(services.hasher, attempt, password)
    async with services.db.transaction() as tx:
        # finish_sign_in re-reads the user and refuses any other than this one.
        # Asked for unknown names too, so their refusal costs the same reads.
        second = await factors.has_factor(tx, attempt.user.id if attempt.user else "")
        user = await users.finish_sign_in(
            tx, services.lockout_policy, attempt, peer=peer, second_step=second
        )
        if user is None:
            return None
        if second:
            return await _second_step(tx, services, user.id, (assurance.PWD,))
        if services.settings.require_mfa:
            return _enrolment(services, user, (assurance.PWD,))
        membership = await orgs.access(tx, org, user.id) if org else None
        opened = await open_session(tx, services, user.id, peer, amr=(assurance.PWD,))
    return replace(opened, org=membership)


async def confirm_password(
    services: Services, peer: Peer, session_id: str, password: str
) -> bool | factors.SecondStep:
    """Step-up (RFC 9470) in a live session: its person types their password
    again. The sign-in's three steps run, with its lockout and audit, for the
    session's own account; right, the session is re-authenticated
    (``sessions.reauthenticate``), or, when the person has a second factor,
    a ``factors.SecondStep`` whose ticket names the session, so that the second
    step re-authenticates it. ``False`` for any refusal (a wrong password, a
    locked account, a session that ended meanwhile), after the commit, so the
    failure is counted."""
    async with services.db.read() as tx:
        session = await tx.sessions.get(session_id)
        user = await tx.users.get(session.user_id) if session else None
        if user is None:
            return False
        attempt = await users.begin_sign_in(tx, user.username)
    attempt = await users.check_password(services.hasher, attempt, password)
    async with services.db.transaction() as tx:
        second = await factors.has_factor(tx, user.id)
        signed = await users.finish_sign_in(
            tx, services.lockout_policy, attempt, peer=peer, second_step=second
        )
        session = await tx.sessions.get(session_id)
        if (
            signed is None
            or session is None
            or session.user_id != signed.id
            or not session.alive(services.session_policy, clock.now())
        ):
            return False
        if second:
            return await _second_step(
                tx, services, signed.id, (assurance.PWD,), session_id=session_id
            )
        await sessions.reauthenticate(tx, session, (assurance.PWD,))
    return True


async def with_identity(
    services: Services,
    peer: Peer,
    identity: UpstreamIdentity,
    *,
    invite_code: str | None,
    method: str,
) -> Opened | factors.SecondStep:
    """An upstream provider's identity, once its answer is checked: whose
    account it is (``domain.identities``, which raises ``SignInRefused``),
    then that account's session, in one transaction. An account with a second
    factor goes through the second step too, unless the provider says it did
    MFA itself (its ``amr``); so does one without, where every account must
    have a factor."""
    settings = services.settings
    policy = identities.Policy(
        allowlist=services.allowlist,
        allow_registration=settings.allow_registration,
        org_invites_create_accounts=settings.org_invites_create_accounts,
    )
    async with services.db.transaction() as tx:
        result = await identities.sign_in(
            tx, identity, policy, invite_code=invite_code, peer=peer
        )
        if assurance.MFA not in identity.amr:
            if await factors.has_factor(tx, result.user.id):
                return await _second_step(
                    tx, services, result.user.id, identity.amr, method=method
                )
            if services.settings.require_mfa:
                return _enrolment(services, result.user, identity.amr, method=method)
        return await open_session(
            tx, services, result.user.id, peer, amr=identity.amr, method=method
        )


async def _second_step(
    stores: Stores,
    services: Services,
    user_id: str,
    amr: tuple[str, ...],
    *,
    method: str | None = None,
    session_id: str | None = None,
) -> factors.SecondStep:
    return await factors.begin(
        stores,
        services.factor_keys.tickets,
        webauthn.relying_party(services),
        user_id,
        amr,
        method=method,
        session_id=session_id,
    )


def _enrolment(
    services: Services,
    user: users.User,
    amr: tuple[str, ...],
    *,
    method: str | None = None,
) -> factors.SecondStep:
    return factors.enrolment(
        services.factor_keys.tickets,
        user.id,
        amr,
        method=method,
        **second_factors.labels(services, user),
    )


async def second_step(
    services: Services,
    peer: Peer,
    mfa_token: str,
    method: str,
    proof: str | dict[str, Any],
    *,
    org: str | None = None,
    caller_session: str | None = None,
) -> Opened | sessions.Session | None:
    """Finish a sign-in with its second factor: a new session, or, when the
    ticket names one (a step-up), that session re-authenticated; ``None`` when
    the proof is refused (after the commit: the failure counts towards the
    lockout). An enrolment's ticket (:func:`_enrolment`) is finished by the
    new app's first code (``factors.enrol``): its session comes with the
    recovery codes. Raises ``InvalidMfaToken`` for a ticket altered, expired or
    already used, or naming a session that has ended or is not
    ``caller_session`` (the browser's own: a step-up finishes only where it
    began, and never through the API)."""
    keys = services.factor_keys
    pending = factors.open_ticket(keys.tickets, mfa_token)
    if pending is None or (
        pending.session_id is not None and pending.session_id != caller_session
    ):
        raise InvalidMfaToken
    if pending.enrolment is not None:
        return await _enrol(services, peer, pending, method, proof, org=org)
    async with services.db.transaction() as tx:
        try:
            amr = await factors.prove(
                tx,
                keys,
                services.lockout_policy,
                pending,
                method=method,
                proof=proof,
                rp=webauthn.relying_party(services),
                peer=peer,
            )
        except factors.TicketUsed:
            raise InvalidMfaToken from None
        if amr is None:
            return None
        if method == factors.RECOVERY_CODE:
            await notices.send(
                tx,
                services.notices,
                notices.Kind.RECOVERY_USED,
                pending.user_id,
                peer=peer,
                values={"what": "code"},
            )
        if pending.session_id is not None:
            return await _reauthenticate(tx, services, pending, amr)
        membership = await orgs.access(tx, org, pending.user_id) if org else None
        opened = await open_session(
            tx, services, pending.user_id, peer, amr=amr, method=pending.method
        )
    return replace(opened, org=membership)


async def _enrol(
    services: Services,
    peer: Peer,
    pending: factors.Pending,
    method: str,
    proof: str | dict[str, Any],
    *,
    org: str | None,
) -> Opened | None:
    if not isinstance(proof, str):
        raise InvalidRequest(factors.ENROL_FIRST)
    async with services.db.transaction() as tx:
        try:
            done = await factors.enrol(
                tx, services.factor_keys, pending, method=method, code=proof, peer=peer
            )
        except factors.TicketUsed:
            raise InvalidMfaToken from None
        if done is None:
            return None
        await notices.send(
            tx,
            services.notices,
            notices.Kind.FACTOR_ADDED,
            pending.user_id,
            peer=peer,
            values={"what": factors.TOTP},
        )
        membership = await orgs.access(tx, org, pending.user_id) if org else None
        opened = await open_session(
            tx, services, pending.user_id, peer, amr=done.amr, method=pending.method
        )
    return replace(opened, org=membership, recovery_codes=done.recovery_codes)


async def _reauthenticate(
    stores: Stores,
    services: Services,
    pending: factors.Pending,
    amr: tuple[str, ...],
) -> sessions.Session:
    now = clock.now()
    session = await stores.sessions.get(pending.session_id or "")
    if (
        session is None
        or session.user_id != pending.user_id
        or not session.alive(services.session_policy, now)
    ):
        raise InvalidMfaToken
    await sessions.reauthenticate(stores, session, amr)
    return replace(session, authenticated_at=now, amr=amr)


async def as_developer(services: Services, peer: Peer, username: str) -> Opened:
    """Dev login: ``username``'s session, the account made on first use. The
    web layer offers this only on loopback (``authgate.upstream.dev_login``)."""
    async with services.db.transaction() as tx:
        user = await identities.dev_account(tx, username, peer)
        return await open_session(
            tx, services, user.id, peer, amr=(), method=identities.DEV
        )


async def with_passkey(
    services: Services,
    peer: Peer,
    *,
    ticket: str,
    credential: dict[str, Any],
    org: str | None = None,
) -> Opened | None:
    """A password-less sign-in: the passkey's user handle names the account
    (``domain.passkeys``). ``None`` for any refusal, after the commit, so the
    audit entry and the spent challenge are kept; a disabled account is
    refused like an unknown passkey, so the answer tells nothing about it."""
    rp = webauthn.required_relying_party(services)
    async with services.db.transaction() as tx:
        used = await passkeys.sign_in(
            tx,
            webauthn.sealer(services),
            rp,
            ticket=ticket,
            credential=credential,
            peer=peer,
        )
        if used is None:
            return None
        user = await tx.users.get(used.passkey.user_id)
        if user is None or not user.active:
            await audit.record(
                tx,
                audit.Action.LOGIN_FAILED,
                peer,
                actor_id=used.passkey.user_id,
                details={"method": PASSKEY, "reason": "disabled"},
            )
            return None
        membership = await orgs.access(tx, org, user.id) if org else None
        opened = await open_session(
            tx, services, user.id, peer, amr=used.amr, method=PASSKEY
        )
    return replace(opened, org=membership)


def access_token(
    services: Services,
    *,
    user_id: str,
    session_id: str | None,
    org: Membership | None,
    authentication: Authentication | None,
) -> str:
    """The first-party access token a session's holder acts with through the
    API: all the user's scopes, bound to the session (so it dies with it),
    acting in ``org`` when one was asked for, saying how the session was last
    authenticated (a step-up reads it). (Every first-party refresh token
    names its session: ``refresh_tokens.rotate`` refuses one without.)"""
    settings = services.settings
    return issue_access_token(
        services.keys.ring,
        issuer=settings.issuer,
        subject=user_id,
        audience=settings.api_resource,
        client_id=FIRST_PARTY_CLIENT_ID,
        scope=" ".join(sorted(USER_SCOPES)),
        ttl=settings.jwt_expiry,
        session_id=session_id,
        org=org,
        authentication=authentication,
    ).token


async def continues_to(services: Services, next_url: str) -> str | None:
    """When a sign-in form will continue to ``next_url`` and that is an
    authorization request, the redirect URI of the client it may end at.

    With consent already given, ``/oauth/authorize`` answers the signed-in
    browser with a redirect straight to the client, and browsers hold every
    redirect after a form post to the posting page's CSP ``form-action``, so
    the sign-in page must allow it. Only a valid request counts (a registered
    client and redirect URI), so a crafted ``next`` widens nothing."""
    parts = urlsplit(next_url)
    if parts.path != AUTHORIZE:
        return None
    oauth_request = OAuthRequest.from_pairs(
        parse_qsl(parts.query, keep_blank_values=True)
    )
    client_ids = oauth_request.params.get("client_id", ())
    documents = await services.oauth.documents.prefetch(
        client_ids[0] if client_ids else None
    )
    async with services.db.read() as tx:
        try:
            req = await authorize.validate(tx, services.oauth, oauth_request, documents)
        except AuthorizeError:
            return None
    return req.redirect_uri
