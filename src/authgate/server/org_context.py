"""Which organization a request acts in, and the caller's role there.

In order: the ``X-Organization-Id`` header (id or slug), else the org the
credential is bound to (API keys always, PATs optionally), else the user's
default org. A credential bound to org A asking for org B (in the header or
the path) is refused, and so is an org in the header the caller does not
belong to (403: whether it exists is not said).

An org that requires a second factor (``Org.require_mfa``) is a context only
for members who have one: asked for by name or bound to a credential, it is
refused with ``mfa_enrollment_required`` (the person can act on that); as a
default org it is simply not applied, so the person can still reach their own
settings to set a factor up.

Memberships, and whether the user has a second factor, are cached per user
and evicted by the revocation fan-out on any change to either, so resolving
the org costs no database round trip on a repeat request.
"""

import dataclasses

from authgate.domain import factors, orgs
from authgate.domain.orgs import Membership
from authgate.domain.permissions import Action, Role, require
from authgate.domain.stores import Stores
from authgate.errors import Forbidden
from authgate.guard import Principal
from authgate.server.ttlmap import TtlMap
from authgate.storage.db import Database

HEADER = "x-organization-id"


def keep_in(bound: str | None, org_id: str | None) -> str | None:
    """The org of a key or token made by a credential bound to ``bound``: that
    same org, so minting a new credential is no way out of it."""
    if bound is None:
        return org_id
    if org_id is not None and org_id != bound:
        raise Forbidden("This credential is bound to another organization.")
    return bound


async def access(tx: Stores, ref: str, caller: Principal) -> Membership:
    """The caller's membership in the org a path names (id or slug), with no
    more rights than its credential carries: a read-only one acts as a viewer."""
    return await orgs.access(
        tx, ref, caller.user_id or "", read_only=not caller.has_scope("write")
    )


async def key_org(tx: Stores, ref: str | None, user_id: str) -> str | None:
    """The org a new API key belongs to: the one named in the body or the
    ``X-Organization-Id`` header, where the user may create keys."""
    if not ref:
        return None
    membership = await orgs.access(tx, ref, user_id)
    require(membership.role, Action.CREATE_API_KEY)
    return membership.org.id


@dataclasses.dataclass(frozen=True, slots=True)
class UserOrgs:
    default_org_id: str | None
    memberships: tuple[Membership, ...]
    has_factor: bool

    def admits(self, membership: Membership) -> bool:
        """``orgs.meets_rule``, from what is cached."""
        return not membership.org.require_mfa or self.has_factor

    def find(self, id_or_slug: str) -> Membership | None:
        return next(
            (m for m in self.memberships if id_or_slug in (m.org.id, m.org.slug)), None
        )


class OrgContext:
    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._cache: TtlMap[UserOrgs] = TtlMap(ttl)

    async def orgs_of(self, user_id: str) -> UserOrgs:
        hit = self._cache.get(user_id)
        if hit is not None:
            return hit
        since = self._cache.generation
        async with self._db.read() as tx:
            user = await tx.users.get(user_id)
            memberships = await tx.orgs.memberships(user_id)
            has_factor = any(m.org.require_mfa for m in memberships) and (
                await factors.has_factor(tx, user_id)
            )
        found = UserOrgs(
            user.default_org_id if user else None, tuple(memberships), has_factor
        )
        self._cache.put(user_id, found, since=since)
        return found

    def invalidate(self, *tags: str) -> None:
        self._cache.invalidate(*tags)

    async def apply(
        self, principal: Principal, requested: str | None, named: str | None = None
    ) -> Principal:
        """The principal acting in the request's org. ``named`` is the org the
        path names (``/orgs/{org}/…``): a credential bound to another org is
        refused there too (whether the caller belongs to it is the route's to
        answer)."""
        if principal.user_id is None:
            if requested:
                raise Forbidden("This credential does not act in an organization.")
            return principal
        mine = await self.orgs_of(principal.user_id)
        bound = principal.org_id
        if bound is not None and named:
            target = mine.find(named.strip())
            if target is not None and target.org.id != bound:
                raise Forbidden("This credential is bound to another organization.")
        if requested:
            membership = mine.find(requested.strip())
            if membership is None:
                raise Forbidden("You are not a member of that organization.")
            if bound is not None and membership.org.id != bound:
                raise Forbidden("This credential is bound to another organization.")
        elif bound is not None:
            membership = mine.find(bound)
            if membership is None:
                raise Forbidden(
                    "This credential's organization no longer includes you."
                )
        else:
            membership = mine.find(mine.default_org_id) if mine.default_org_id else None
            if membership is None or not mine.admits(membership):
                return principal
        if not mine.admits(membership):
            raise orgs.enrol_first(membership.org)
        role = membership.role
        # A read-only key acts with no more than a viewer's rights.
        if not principal.has_scope("write"):
            role = Role.VIEWER
        return dataclasses.replace(principal, org_id=membership.org.id, role=role)
