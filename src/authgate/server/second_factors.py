"""Setting up and removing second factors, for the API (``/api/v1/me/factors``)
and the Settings → Security page alike: each use case in one transaction,
under the keys ``Services`` derives for it (``domain.factors``)."""

from urllib.parse import urlsplit

from authgate.domain import assurance, factors, notices, sessions, totp
from authgate.domain.context import Peer
from authgate.domain.stores import Stores
from authgate.domain.users import User
from authgate.server.services import Services


def labels(services: Services, user: User) -> dict[str, str]:
    """How the entry reads in the person's app: their username at this server
    (its host, so two Authgate servers are told apart)."""
    issuer = urlsplit(services.settings.issuer).hostname or "Authgate"
    return {"account": user.username, "issuer": issuer}


async def summary(services: Services, user_id: str) -> factors.Summary:
    async with services.db.read() as tx:
        return await factors.summary(tx, user_id)


async def begin_totp(services: Services, user: User) -> totp.Enrolment:
    async with services.db.transaction() as tx:
        return await totp.begin(
            tx, services.factor_keys.totp, user_id=user.id, **labels(services, user)
        )


async def pending_totp(services: Services, user: User) -> totp.Enrolment | None:
    async with services.db.read() as tx:
        return await totp.pending(
            tx, services.factor_keys.totp, user_id=user.id, **labels(services, user)
        )


async def confirm_totp(
    services: Services,
    user: User,
    code: str,
    peer: Peer,
    *,
    session_id: str | None,
) -> list[str] | None:
    """The recovery codes when the app is the person's first factor. The
    code that confirms the app also proves it: the session it was set up in
    (the caller's, signed in recently, as enrolling needs) is re-authenticated
    with both factors, so the next sensitive action does not ask for them
    again at once."""
    async with services.db.transaction() as tx:
        codes = await factors.confirm_totp(
            tx, services.factor_keys, user_id=user.id, code=code, peer=peer
        )
        session = await tx.sessions.get(session_id) if session_id else None
        if session is not None and session.user_id == user.id:
            amr = factors.combined(session.amr, (assurance.OTP,))
            await sessions.reauthenticate(tx, session, amr)
        await tell(services, tx, notices.Kind.FACTOR_ADDED, user, factors.TOTP, peer)
        return codes


async def remove_totp(services: Services, user: User, peer: Peer) -> bool:
    async with services.db.transaction() as tx:
        removed = await factors.remove_totp(
            tx, user_id=user.id, actor_id=user.id, peer=peer
        )
        if removed:
            await tell(
                services, tx, notices.Kind.FACTOR_REMOVED, user, factors.TOTP, peer
            )
        return removed


async def regenerate_codes(services: Services, user: User, peer: Peer) -> list[str]:
    async with services.db.transaction() as tx:
        codes = await factors.regenerate_codes(
            tx, services.factor_keys, user_id=user.id, peer=peer
        )
        await tell(
            services, tx, notices.Kind.FACTOR_ADDED, user, factors.RECOVERY_CODE, peer
        )
        return codes


async def tell(
    services: Services,
    stores: Stores,
    kind: notices.Kind,
    user: User | str,
    what: str,
    peer: Peer,
) -> None:
    """Tell the person a second factor (``what``: ``factors.METHODS``) was
    added or removed (``domain.notices``), in the change's transaction."""
    await notices.send(
        stores, services.notices, kind, user, peer=peer, values={"what": what}
    )
