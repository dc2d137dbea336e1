"""Recovery keys: a one-time secret a person stores away to reset a forgotten
password without an administrator. Issuing one replaces the previous one."""

from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from authgate.domain import account, audit, password_reset, users
from authgate.domain.context import Peer
from authgate.domain.passwords import Hasher, check_policy
from authgate.domain.sealing import Sealer
from authgate.errors import InvalidRequest
from authgate.util import clock, tokens

if TYPE_CHECKING:
    from datetime import datetime


#: Same answer for an unknown user, a wrong key and a used key.
REFUSED = "Invalid username or recovery key."


class RecoveryKeyStore(Protocol):
    async def put(self, user_id: str, key_hash: str, at: "datetime") -> None:
        """Store the user's only key, replacing any previous one."""

    async def consume(self, user_id: str, key_hash: str) -> bool:
        """Atomically delete the user's key if it has this hash; ``True`` if so."""


class Tx(account.Tx, password_reset.Tx, Protocol):
    @property
    def recovery_keys(self) -> RecoveryKeyStore: ...


async def issue(
    stores: Tx,
    confirmed: account.Confirmed,
    *,
    prefix: str,
    peer: Peer,
) -> str:
    """A new recovery key for a person who has just given their password."""
    user = await account.reconfirm(stores, confirmed)
    key = tokens.mint(prefix, "rec")
    await stores.recovery_keys.put(user.id, tokens.digest(key), clock.now())
    await audit.record(
        stores,
        audit.Action.RECOVERY_KEY_CREATED,
        peer,
        actor_id=user.id,
        target_id=user.id,
    )
    return key


async def recover(
    stores: Tx,
    hasher: Hasher,
    sealer: Sealer,
    *,
    username: str,
    key: str,
    new_password: str,
    min_length: int,
    access_ttl: timedelta,
    peer: Peer,
) -> bool:
    """Reset the password with the recovery key, consuming it and ending every
    session (:func:`password_reset.replace`, which tells a verified address);
    ``False`` when refused (the caller commits the audit entry, then
    answers with :data:`REFUSED`). The new password is checked first, so a weak
    one costs no key."""
    try:
        name = users.normalize_username(username)
    except InvalidRequest:
        return False
    check_policy(new_password, min_length=min_length, username=name)
    user = await stores.users.by_username(name)
    if user is None or not await stores.recovery_keys.consume(
        user.id, tokens.digest(key)
    ):
        await audit.record(
            stores,
            audit.Action.RECOVERY_FAILED,
            peer,
            actor_id=user.id if user else None,
            details={"username": name},
        )
        return False
    await audit.record(
        stores, audit.Action.RECOVERY_USED, peer, actor_id=user.id, target_id=user.id
    )
    await password_reset.replace(
        stores,
        hasher,
        sealer,
        user,
        new_password,
        min_length=min_length,
        access_ttl=access_ttl,
        peer=peer,
    )
    return True
