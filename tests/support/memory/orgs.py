"""Organizations, their memberships and invites (instance invites too)."""

from dataclasses import replace
from datetime import datetime

from authgate.domain.invites import Invite
from authgate.domain.orgs import Member, Membership, Org
from authgate.errors import Conflict
from tests.support.memory.accounts import MemoryIdentities, MemoryUsers


class MemoryInvites:
    def __init__(self) -> None:
        self.rows: dict[str, Invite] = {}
        self.hashes: dict[str, str] = {}  #: code hash → invite id

    async def add(self, invite: Invite, code_hash: str) -> None:
        self.rows[invite.id] = replace(
            invite, used_at=None, used_by=None, revoked_at=None
        )
        self.hashes[code_hash] = invite.id

    async def by_code_hash(self, code_hash: str) -> Invite | None:
        invite_id = self.hashes.get(code_hash)
        return self.rows.get(invite_id) if invite_id else None

    async def get(self, invite_id: str) -> Invite | None:
        return self.rows.get(invite_id)

    async def all(self, org_id: str | None = None) -> list[Invite]:
        found = [i for i in self.rows.values() if i.org_id == org_id]
        return sorted(found, key=lambda i: i.created_at, reverse=True)

    def _open(self, invite_id: str) -> Invite | None:
        invite = self.rows.get(invite_id)
        if invite is None or invite.used_at or invite.revoked_at:
            return None
        return invite

    async def mark_used(self, invite_id: str, user_id: str, at: datetime) -> bool:
        invite = self._open(invite_id)
        if invite is None:
            return False
        self.rows[invite_id] = replace(invite, used_at=at, used_by=user_id)
        return True

    async def revoke(self, invite_id: str, at: datetime) -> bool:
        invite = self._open(invite_id)
        if invite is None:
            return False
        self.rows[invite_id] = replace(invite, revoked_at=at)
        return True


class MemoryOrgs:
    """Memberships name users (``members`` reads their names, and a membership
    of a missing user is refused as the foreign key refuses it); deleting an
    org deletes what the database cascades: memberships, invites, upstream
    links."""

    def __init__(
        self, users: MemoryUsers, invites: MemoryInvites, identities: MemoryIdentities
    ) -> None:
        self._users = users
        self._invites = invites
        self._identities = identities
        self.rows: dict[str, Org] = {}
        #: (org id, user id) → (role, joined at), in joining order
        self.roles: dict[tuple[str, str], tuple[str, datetime]] = {}

    def _slug_taken(self, org_id: str, slug: str) -> bool:
        return any(o.slug == slug and o.id != org_id for o in self.rows.values())

    async def add(self, org: Org) -> None:
        if org.id in self.rows or self._slug_taken(org.id, org.slug):
            raise Conflict("That organization slug is taken.")
        self.rows[org.id] = org

    async def find(self, id_or_slug: str) -> Org | None:
        return next(
            (o for o in self.rows.values() if id_or_slug in (o.id, o.slug)), None
        )

    async def lock(self, org_id: str) -> None:
        """Nothing to wait for: one transaction at a time."""

    async def update(
        self, org_id: str, *, name: str, slug: str, require_mfa: bool
    ) -> None:
        org = self.rows.get(org_id)
        if org is None:
            return
        if self._slug_taken(org_id, slug):
            raise Conflict("That organization slug is taken.")
        self.rows[org_id] = replace(org, name=name, slug=slug, require_mfa=require_mfa)

    async def delete(self, org_id: str) -> None:
        for key in [k for k in self.roles if k[0] == org_id]:
            del self.roles[key]
        for invite in [i for i in self._invites.rows.values() if i.org_id == org_id]:
            del self._invites.rows[invite.id]
        links = self._identities.orgs
        for key in [k for k, linked in links.items() if linked == org_id]:
            del links[key]
        self.rows.pop(org_id, None)

    def _membership(self, key: tuple[str, str]) -> Membership:
        role, at = self.roles[key]
        return Membership(
            org=self.rows[key[0]], user_id=key[1], role=role, created_at=at
        )

    def _keys(
        self, org_id: str | None = None, user_id: str | None = None
    ) -> list[tuple[str, str]]:
        """Membership keys (of one org or one user), oldest first."""
        keys = [
            k for k in self.roles if org_id in (None, k[0]) and user_id in (None, k[1])
        ]
        return sorted(keys, key=lambda k: self.roles[k][1])

    async def memberships(self, user_id: str) -> list[Membership]:
        return [self._membership(k) for k in self._keys(user_id=user_id)]

    async def membership(self, org_id: str, user_id: str) -> Membership | None:
        key = (org_id, user_id)
        return self._membership(key) if key in self.roles else None

    async def members(self, org_id: str) -> list[Member]:
        found = []
        for key in self._keys(org_id=org_id):
            user = self._users.rows[key[1]]
            role = self.roles[key][0]
            found.append(
                Member(
                    user_id=user.id, username=user.username, email=user.email, role=role
                )
            )
        return found

    async def add_member(
        self, org_id: str, user_id: str, role: str, at: datetime
    ) -> bool:
        key = (org_id, user_id)
        if key in self.roles or org_id not in self.rows:
            return False
        if user_id not in self._users.rows:
            return False
        self.roles[key] = (role, at)
        return True

    async def set_role(self, org_id: str, user_id: str, role: str) -> None:
        key = (org_id, user_id)
        if key in self.roles:
            self.roles[key] = (role, self.roles[key][1])

    async def remove_member(self, org_id: str, user_id: str) -> None:
        self.roles.pop((org_id, user_id), None)

    async def count_owners(self, org_id: str) -> int:
        return sum(
            1
            for (org, _), (role, _) in self.roles.items()
            if org == org_id and role == "owner"
        )

    async def member_ids(self, org_id: str) -> list[str]:
        return [user_id for org, user_id in self.roles if org == org_id]
