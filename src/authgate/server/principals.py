"""The server's own verifiers, backed by storage, plugged into the same
``GuardMiddleware`` that other apps import (one resolution path)."""

import dataclasses
from datetime import UTC, datetime
from typing import ClassVar

from authgate.config import Settings
from authgate.domain import authority, credentials, sessions
from authgate.domain.assurance import Authentication
from authgate.domain.clients import FIRST_PARTY_CLIENT_ID, FIRST_PARTY_CLIENTS
from authgate.domain.context import Peer
from authgate.domain.credentials import Credential as Cred
from authgate.domain.users import User, local_owner
from authgate.guard import (
    Credential,
    CredentialError,
    JwtVerifier,
    Kind,
    Principal,
    Verified,
    principal_from_claims,
)
from authgate.oauth.issuance import GRANT_CLAIM
from authgate.server.services import Services
from authgate.util import clock, tokens

#: Scopes of the first-party tokens a sign-in gives: everything the user may do.
USER_SCOPES = frozenset({"read", "write"})


def holder(
    settings: Settings, principal: Principal, user: User | None
) -> authority.Holder:
    """The caller as ``authority`` judges it. A JWT is this server's own only
    when it names this issuer: another issuer's client ids are not ours, so
    another issuer's client named ``authgate`` is not first party."""
    return authority.Holder(
        kind=principal.kind,
        scopes=principal.scopes,
        client_id=principal.client_id,
        credential_id=principal.credential_id,
        user_id=user.id if user is not None and user.active else None,
        user_is_admin=user is not None and user.is_admin,
        foreign=principal.kind in ("jwt", "client")
        and principal.issuer != settings.issuer,
        expires_at=(
            datetime.fromtimestamp(principal.expires_at, UTC)
            if principal.expires_at is not None
            else None
        ),
    )


def with_roles(settings: Settings, principal: Principal, user: User) -> Principal:
    """``roles`` holds ``admin`` when this credential may administer
    (``authority``), not merely when its person may: an administrator's token
    in some application's hands says it is no administrator."""
    held = holder(settings, principal, user)
    admin = authority.Power.ADMIN in authority.powers(held)
    return dataclasses.replace(
        principal, roles=frozenset({"admin"}) if admin else frozenset()
    )


def authentication(principal: Principal) -> Authentication | None:
    """How the person behind ``principal`` last authenticated, as the tokens
    issued on its behalf record it; ``None`` when it says nothing."""
    if principal.auth_time is None:
        return None
    return Authentication(
        datetime.fromtimestamp(principal.auth_time, UTC), principal.amr
    )


def _opaque_kind(services: Services, credential: Credential) -> str | None:
    parsed = tokens.parse(credential.value)
    if parsed is None or parsed.prefix != services.settings.token_prefix:
        return None
    return parsed.kind


class SessionVerifier:
    """``ag_ses_…`` cookies. Cached for at most a minute, so the sliding idle
    deadline is written about once a minute per session, not per request."""

    RECHECK = sessions.TOUCH_INTERVAL.total_seconds()

    def __init__(self, services: Services) -> None:
        self.services = services

    def accepts(self, credential: Credential) -> bool:
        return _opaque_kind(self.services, credential) == "ses"

    async def verify(self, credential: Credential) -> Verified:
        async with self.services.db.read() as tx:
            session = await sessions.resolve(
                tx, self.services.session_policy, credential.value
            )
            user = await tx.users.get(session.user_id) if session else None
        if session is None or user is None or not user.active:
            raise CredentialError("Your session has ended; sign in again.")
        if sessions.due_for_touch(session):
            async with self.services.db.transaction() as tx:
                await sessions.touch(tx, session)
        deadline = session.deadline(self.services.session_policy).timestamp()
        principal = Principal(
            subject=user.id,
            kind="session",
            credential_id=session.id,
            user_id=user.id,
            session_id=session.id,
            scopes=USER_SCOPES,
            expires_at=deadline,
            auth_time=session.auth_time.timestamp(),
            amr=session.amr,
            acr=session.authentication.acr,
        )
        return Verified(
            with_roles(self.services.settings, principal, user),
            valid_until=min(deadline, clock.now().timestamp() + self.RECHECK),
            tags=(session.id, user.id),
        )


class ServerJwtVerifier:
    """Authgate's own access tokens: the guard's offline check, then the session
    named by ``sid`` must still be alive, the user active, and an OAuth
    client's token not revoked. The result is cached until the token expires
    (or its session would, unused); revoking the session, the token or its
    grant, or disabling the user, evicts it (by tag), so the hot path needs
    neither signature nor database. A token never seen before needs its
    signature and claims, and the database only when the session, the user or
    a revocation is not known to this process already (``Services.sessions``,
    ``Services.user``, ``Services.revocations``)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.jwt = JwtVerifier(
            services.keys,
            issuer=settings.issuer,
            audience=settings.api_resource,
            algorithms=("ES256",),
        )

    def accepts(self, credential: Credential) -> bool:
        return credential.is_jwt

    async def verify(self, credential: Credential) -> Verified:
        raw = await self.jwt.claims(credential.value)
        claims = principal_from_claims(raw)
        # OAuth clients' tokens can be revoked one by one (RFC 7009), with their
        # grant (a replayed code, a reused refresh token) or with their client;
        # first-party tokens die with their session instead.
        first_party = claims.client_id == FIRST_PARTY_CLIENT_ID
        revocable = [
            str(raw[name])
            for name in ("jti", *(() if first_party else (GRANT_CLAIM, "client_id")))
            if isinstance(raw.get(name), str)
        ]
        if (
            not first_party
            and revocable
            and await self.services.revocations.is_revoked(revocable)
        ):
            raise CredentialError("The token has been revoked.")
        user = await self.services.user(claims.subject) if claims.user_id else None
        if claims.user_id and (user is None or not user.active):
            raise CredentialError("The token's user is disabled or gone.")
        valid_until = float(raw["exp"])
        if claims.session_id:
            policy = self.services.session_policy
            session = await self.services.sessions.alive(claims.session_id, policy)
            if session is None:
                raise CredentialError("The token's session has ended; sign in again.")
            # Re-checked when the session would end unused: its expiry is
            # enforced for a token already verified too.
            valid_until = min(valid_until, session.deadline(policy).timestamp())
        principal = Principal(
            subject=claims.subject,
            kind=claims.kind,
            credential_id=claims.credential_id,
            user_id=claims.user_id,
            session_id=claims.session_id,
            client_id=claims.client_id,
            # A first-party token acts with the person's full rights, in any
            # of their orgs (``X-Organization-Id``); another client's acts only
            # in the org it was issued for.
            org_id=None if claims.client_id in FIRST_PARTY_CLIENTS else claims.org_id,
            scopes=claims.scopes,
            expires_at=claims.expires_at,
            issuer=claims.issuer,
            auth_time=claims.auth_time,
            amr=claims.amr,
            acr=claims.acr,
        )
        if user is not None:
            principal = with_roles(self.services.settings, principal, user)
        tags = tuple(
            dict.fromkeys(
                t for t in (claims.session_id, claims.user_id, *revocable) if t
            )
        )
        return Verified(principal, valid_until=valid_until, tags=tags)


class LocalOwner:
    """``AUTHGATE_AUTH_ENABLED=false``: every request without a credential is the
    local owner (single-user mode, allowed only on a loopback bind)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._principal: Principal | None = None

    async def __call__(self) -> Principal:
        if self._principal is None:
            async with self.services.db.transaction() as tx:
                owner = await local_owner(tx)
            self._principal = with_roles(
                self.services.settings,
                Principal(
                    subject=owner.id,
                    kind="local",
                    user_id=owner.id,
                    scopes=USER_SCOPES,
                ),
                owner,
            )
        return self._principal


class CredentialVerifier:
    """``ag_pat_…`` and ``ag_key_…``: looked up by hash. Cached for at most a
    minute, so ``last_used_at`` is written about once a minute, not per request;
    revocation evicts the entry at once."""

    RECHECK = credentials.TOUCH_INTERVAL.total_seconds()
    KINDS: ClassVar[dict[str, Kind]] = {"pat": "pat", "key": "api_key"}

    def __init__(self, services: Services) -> None:
        self.services = services

    def accepts(self, credential: Credential) -> bool:
        return _opaque_kind(self.services, credential) in self.KINDS

    async def verify(self, credential: Credential) -> Verified:
        async with self.services.db.read() as tx:
            presented = await credentials.present(tx, credential.value)
            found = presented.answer
            user = (
                await tx.users.get(found.user_id) if isinstance(found, Cred) else None
            )
        if presented.to_record:
            async with self.services.db.transaction() as tx:
                await credentials.record_use(
                    tx,
                    presented,
                    Peer(ip=credential.ip, user_agent=credential.user_agent),
                )
        if not isinstance(found, Cred):
            raise CredentialError(found.description)
        if user is None or not user.active:
            raise CredentialError("The token's user is disabled.")
        valid_until = clock.now().timestamp() + self.RECHECK
        if found.expires_at is not None:
            valid_until = min(valid_until, found.expires_at.timestamp())
        principal = Principal(
            subject=user.id,
            kind=self.KINDS[found.kind],
            credential_id=found.id,
            user_id=user.id,
            org_id=found.org_id,
            scopes=frozenset(found.scopes),
            expires_at=found.expires_at.timestamp() if found.expires_at else None,
        )
        return Verified(
            with_roles(self.services.settings, principal, user),
            valid_until=valid_until,
            tags=(found.id, user.id),
        )
