"""A person deleting their own account, as the API (``DELETE /api/v1/me``)
and the settings page run it.

The caller already passed step-up (a recent sign-in, with the second factor
when there is one: ``web.deps.ChangesSignIn`` and the pages' stepped-up form),
as every change to how the person signs in does. An account with a password
also gives it again, checked as a password change checks it (lockout, audit,
no transaction open while argon2 runs), so a session left open is not
enough. An account without one (signed in upstream) has only the recent
sign-in to prove who they are, as for its other sensitive actions.
"""

from authgate.domain import account, deletion
from authgate.domain.context import Peer
from authgate.domain.users import User
from authgate.errors import InvalidCredentials
from authgate.server.services import Services


async def delete_own(
    services: Services, user: User, password: str, *, peer: Peer
) -> deletion.Deleted:
    async with services.db.read() as tx:
        fresh = await tx.users.get(user.id) or user
    confirmed = (
        await services.confirm_password(fresh, password, peer)
        if fresh.password_hash is not None
        else None
    )
    async with services.db.transaction() as tx:
        if confirmed is not None:
            await account.reconfirm(tx, confirmed)
        else:
            # A password set since it was read must be asked for after all.
            current = await tx.users.get(user.id)
            if current is not None and current.password_hash is not None:
                raise InvalidCredentials(account.WRONG_PASSWORD)
        return await deletion.delete(
            tx,
            user.id,
            actor_id=user.id,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
            notify=services.notices,
        )
