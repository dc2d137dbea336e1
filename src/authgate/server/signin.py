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
from urllib.parse import parse_qsl, urlsplit

from authgate.domain import assurance, identities, orgs, refresh_tokens, sessions, users
from authgate.domain.assurance import Authentication
from authgate.domain.clients import FIRST_PARTY_CLIENT_ID
from authgate.domain.context import Peer
from authgate.domain.identities import UpstreamIdentity
from authgate.domain.jwt import issue_access_token
from authgate.domain.orgs import Membership
from authgate.domain.stores import Stores
from authgate.oauth import authorize
from authgate.oauth.authorize import AuthorizeError
from authgate.oauth.requests import OAuthRequest
from authgate.oauth.server import AUTHORIZE
from authgate.server.principals import USER_SCOPES
from authgate.server.services import Services
from authgate.util import clock


@dataclass(frozen=True, slots=True)
class Opened:
    """A session just started and the refresh token bound to it."""

    started: sessions.Started
    refresh_token: str
    #: The org the sign-in asked its tokens to act in, with the caller's role.
    org: Membership | None = None


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
    says how the person authenticated (``domain.assurance``)."""
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
) -> Opened | None:
    """The password sign-in's three steps (``domain.users``); ``None`` for any
    refusal, after the commit, so the failure count and audit entry are kept.

    The argon2 check runs between the look-up and the write transaction, so
    sign-ins do not hold (on SQLite: queue on) the database write lock for it.
    ``org`` (id or slug) is checked in the write transaction: refused, it
    undoes the whole sign-in."""
    async with services.db.read() as tx:
        attempt = await users.begin_sign_in(tx, username)
    attempt = await users.check_password(services.hasher, attempt, password)
    async with services.db.transaction() as tx:
        user = await users.finish_sign_in(
            tx, services.lockout_policy, attempt, peer=peer
        )
        if user is None:
            return None
        membership = await orgs.access(tx, org, user.id) if org else None
        opened = await open_session(tx, services, user.id, peer, amr=(assurance.PWD,))
    return replace(opened, org=membership)


async def confirm_password(
    services: Services, peer: Peer, session_id: str, password: str
) -> bool:
    """Step-up (RFC 9470) in a live session: its person types their password
    again. The sign-in's three steps run, with its lockout and audit, for the
    session's own account; right, the session is re-authenticated
    (``sessions.reauthenticate``). ``False`` for any refusal (a wrong
    password, a locked account, a session that ended meanwhile), after the
    commit, so the failure is counted."""
    async with services.db.read() as tx:
        session = await tx.sessions.get(session_id)
        user = await tx.users.get(session.user_id) if session else None
        if user is None:
            return False
        attempt = await users.begin_sign_in(tx, user.username)
    attempt = await users.check_password(services.hasher, attempt, password)
    async with services.db.transaction() as tx:
        signed = await users.finish_sign_in(
            tx, services.lockout_policy, attempt, peer=peer
        )
        session = await tx.sessions.get(session_id)
        if (
            signed is None
            or session is None
            or session.user_id != signed.id
            or not session.alive(services.session_policy, clock.now())
        ):
            return False
        await sessions.reauthenticate(tx, session, (assurance.PWD,))
    return True


async def with_identity(
    services: Services,
    peer: Peer,
    identity: UpstreamIdentity,
    *,
    invite_code: str | None,
    method: str,
) -> Opened:
    """An upstream provider's identity, once its answer is checked: whose
    account it is (``domain.identities``, which raises ``SignInRefused``),
    then that account's session, in one transaction."""
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
        return await open_session(
            tx, services, result.user.id, peer, amr=(), method=method
        )


async def as_developer(services: Services, peer: Peer, username: str) -> Opened:
    """Dev login: ``username``'s session, the account made on first use. The
    web layer offers this only on loopback (``authgate.upstream.dev_login``)."""
    async with services.db.transaction() as tx:
        user = await identities.dev_account(tx, username, peer)
        return await open_session(
            tx, services, user.id, peer, amr=(), method=identities.DEV
        )


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
