"""Signing up: a new local account, with this instance's rules (first user,
invites, open registration, allowlist), for the API and the ``/register``
page alike."""

from authgate.domain import identities, registration, users
from authgate.domain.context import Peer
from authgate.errors import SignInRefused
from authgate.server.mailing import mailing
from authgate.server.services import Services


async def register_account(
    services: Services,
    peer: Peer,
    *,
    username: str,
    password: str,
    email: str | None,
    invite_code: str | None,
    invite_proof: str | None = None,
) -> users.User:
    """A refusal by the allowlist is recorded after the rollback, then raised."""
    settings = services.settings
    rules = registration.Rules(
        invite_code,
        settings.allow_registration,
        services.allowlist,
        org_invites_create_accounts=settings.org_invites_create_accounts,
        invite_proof=invite_proof,
    )
    try:
        # Admitted first (read-only), hashed with no transaction open, then
        # admitted again and written: no refused request costs an argon2 hash,
        # and no hash holds the database write lock.
        async with services.db.read() as tx:
            await registration.admit(tx, rules, email)
        account = await users.prepare(
            services.hasher,
            username=username,
            password=password,
            email=email,
            min_length=settings.password_min_length,
        )
        async with services.db.transaction() as tx:
            return await registration.register(
                tx, account, rules, mailing(services), peer=peer
            )
    except SignInRefused as refused:
        async with services.db.transaction() as tx:
            await identities.record_refusal(
                tx, "local", refused.reason, peer, email=email
            )
        raise
