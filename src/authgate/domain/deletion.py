"""Deleting an account, by an administrator or by the person themselves.

Everything happens in the caller's one transaction, refused as a whole or
done as a whole. Every login ends (sessions, OAuth grants, and the access
tokens those issued, recorded as revoked for their lifetime), every PAT and
API key is revoked and evicted from each instance's caches through the
invalidation feed, and then the user's row goes: the rows that belong to it
(sessions, refresh tokens, credentials, passkeys, second factors, consents,
external identities, memberships) go with it, by the database's cascades.

The audit log keeps every entry: they name the account by its id, which no
account will hold again, so the console shows them as a deleted user's; the
deletion itself is recorded with the username the account had, and a
verified address is told (``domain.notices``).

The rules that hold for disabling and for leaving an organization hold here
too: the last active administrator cannot go, nor the only owner of an
organization others belong to (409: make someone else owner first). An
organization the person is the only member of goes with them, as deleting it
would.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from authgate.domain import account, audit, notices, orgs, sessions, users
from authgate.domain.context import Peer
from authgate.domain.permissions import Role
from authgate.errors import Conflict, NotFound
from authgate.util import clock

NO_USER = "No such user."


@dataclass(frozen=True, slots=True)
class Deleted:
    """What went with the account, for the one who deleted it."""

    user_id: str
    username: str
    sessions: int
    grants: int
    credentials: int
    #: slugs of the organizations the person was the only member of
    orgs: tuple[str, ...]


class Tx(orgs.Tx, account.Tx, Protocol):
    pass


def sole_owner(username: str, slug: str) -> Conflict:
    return Conflict(
        f"{username} is the only owner of the organization {slug}, which has "
        "other members: make one of them owner first, or delete the organization."
    )


async def _orgs_going(stores: Tx, user: users.User) -> list[orgs.Membership]:
    """The memberships whose organization goes with the account (it has no
    other member); refused when the person is the only owner of one that has
    others. Each owned organization is locked first, so a demotion racing
    the deletion is decided one after the other (``domain.orgs``)."""
    going = []
    for membership in await stores.orgs.memberships(user.id):
        if membership.role != Role.OWNER:
            continue
        await stores.orgs.lock(membership.org.id)
        if await stores.orgs.count_owners(membership.org.id) > 1:
            continue
        if await stores.orgs.member_ids(membership.org.id) != [user.id]:
            raise sole_owner(user.username, membership.org.slug)
        going.append(membership)
    return going


async def delete(
    stores: Tx,
    user_id: str,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
    notify: notices.Policy,
) -> Deleted:
    """Delete the account ``user_id``; ``actor_id`` is who asked (the person,
    an administrator, or ``None`` for the CLI). A verified address is told
    (``domain.notices``), queued before the row goes, in this transaction."""
    user = await stores.users.get(user_id)
    if user is None:
        raise NotFound(NO_USER)
    going = await _orgs_going(stores, user)
    for membership in going:
        await orgs.delete(stores, membership, peer)
    revoked = await stores.credentials.revoke_all_for_user(user.id, clock.now())
    ended = await sessions.end_logins(
        stores,
        user.id,
        reason="deleted",
        actor_id=actor_id,
        access_ttl=access_ttl,
        peer=peer,
    )
    # Counters keyed by the username or the id would otherwise outlive the
    # account, and lock out whoever registers that username next.
    await stores.lockout.clear(user.username)
    await stores.lockout.clear(account.recheck_key(user.id))
    await notices.send(
        stores,
        notify,
        notices.Kind.ACCOUNT_DELETED,
        user,
        peer=peer,
        values={"by_admin": "yes" if actor_id != user.id else ""},
    )
    await users.remove(stores, user)
    stores.invalidate(user.id, *revoked)
    slugs = tuple(m.org.slug for m in going)
    await audit.record(
        stores,
        audit.Action.USER_DELETED,
        peer,
        actor_id=actor_id,
        target_id=user.id,
        details={
            "username": user.username,
            "sessions": len(ended.sessions),
            "grants": len(ended.grants),
            "credentials": len(revoked),
            "orgs_deleted": list(slugs),
        },
    )
    return Deleted(
        user_id=user.id,
        username=user.username,
        sessions=len(ended.sessions),
        grants=len(ended.grants),
        credentials=len(revoked),
        orgs=slugs,
    )
