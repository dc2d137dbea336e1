"""Accounts, for instance administrators: ``/api/v1/admin/users``.

The same domain calls as ``authgate admin`` and the admin console
(``/admin/users``), so the rules, the audit entries and the last-administrator
rule are the same everywhere. Passwords are hashed before the write
transaction opens, so the ~40 ms argon2 hash holds no database lock.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import ConfigDict, Field, StrictBool

from authgate.domain import account, deletion, factors, users, verification
from authgate.errors import InvalidRequest, NotFound
from authgate.server.mailing import mailing
from authgate.web.deps import Admin, PeerDep, ServicesDep
from authgate.web.schemas import Page, RequestBody, ResponseBody, Storable, failures

router = APIRouter(prefix="/admin/users", tags=["admin"])

UserId = Annotated[str, Path(max_length=64), Storable]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
NO_USER = "No such user."


class AccountOut(ResponseBody):
    id: str
    username: str
    email: str | None
    email_verified: bool
    #: an address the person asked for, waiting for its verification
    new_email: str | None
    is_admin: bool
    active: bool
    disabled_at: datetime | None
    created_at: datetime
    default_org_id: str | None


class UserIn(RequestBody):
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Password
    email: Annotated[str | None, Field(max_length=320)] = None
    #: the administrator vouches for the address: no link is mailed to it
    email_verified: StrictBool = False
    is_admin: StrictBool = False


class UserChange(RequestBody):
    """Either field or both; anything else is refused rather than ignored, so a
    caller who hoped to change something else learns that it did not."""

    model_config = ConfigDict(extra="forbid")

    is_admin: StrictBool | None = None
    active: StrictBool | None = None


class PasswordIn(RequestBody):
    new_password: Password


def user_out(user: users.User) -> AccountOut:
    """Every field but the password hash, which never leaves the server."""
    return AccountOut(
        id=user.id,
        username=user.username,
        email=user.email,
        email_verified=user.email_verified,
        new_email=user.new_email,
        is_admin=user.is_admin,
        active=user.active,
        disabled_at=user.disabled_at,
        created_at=user.created_at,
        default_org_id=user.default_org_id,
    )


@router.get("", summary="List accounts")
async def list_users(
    _admin: Admin,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=320), Storable] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64), Storable] = None,
) -> Page[AccountOut]:
    """Users by username; ``q`` keeps those whose username or email contains
    it. ``next_cursor`` (the last username) is set only when more follow."""
    text = q.strip()
    async with services.db.read() as tx:
        found = await tx.users.search(text or None, limit=limit + 1, after=cursor)
    items = found[:limit]
    next_cursor = items[-1].username if len(found) > limit else None
    return Page(items=[user_out(u) for u in items], next_cursor=next_cursor)


@router.get("/{user_id}", summary="Show an account", responses=failures(404))
async def get_user(user_id: UserId, _admin: Admin, services: ServicesDep) -> AccountOut:
    async with services.db.read() as tx:
        user = await tx.users.get(user_id)
    if user is None:
        raise NotFound(NO_USER)
    return user_out(user)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account (admin)",
    responses=failures(409),
)
async def create_user(
    body: UserIn, admin: Admin, services: ServicesDep, peer: PeerDep
) -> AccountOut:
    """A local account, as ``authgate admin create-user`` makes one; its
    address gets a verification link unless ``email_verified``."""
    account = await users.prepare(
        services.hasher,
        username=body.username,
        password=body.password,
        email=body.email,
        min_length=services.settings.password_min_length,
    )
    async with services.db.transaction() as tx:
        user = await verification.add_account(
            tx,
            mailing(services),
            account,
            is_admin=body.is_admin,
            actor_id=admin.user_id,
            peer=peer,
            email_verified=body.email_verified,
        )
    return user_out(user)


@router.patch(
    "/{user_id}",
    summary="Change an account's admin or disabled state",
    responses=failures(404, 409),
)
async def change_user(
    user_id: UserId,
    body: UserChange,
    admin: Admin,
    services: ServicesDep,
    peer: PeerDep,
) -> AccountOut:
    """Grant or revoke administration, disable or enable, in one transaction:
    refused as a whole (the last active administrator: 409), nothing changes.
    A field already at the asked value changes nothing and logs nothing.
    Disabling also ends the account's sessions and revokes its tokens and keys."""
    if body.is_admin is None and body.active is None:
        raise InvalidRequest("Send is_admin, active or both.")
    actor = admin.user_id
    async with services.db.transaction() as tx:
        user = await tx.users.get(user_id)
        if user is None:
            raise NotFound(NO_USER)
        if body.active and not user.active:
            await users.set_active(
                tx,
                user.id,
                True,
                actor_id=actor,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
            )
        if body.is_admin is not None and body.is_admin != user.is_admin:
            await users.set_admin(tx, user.id, body.is_admin, actor_id=actor, peer=peer)
        if body.active is False and user.active:
            await users.disable(
                tx,
                user.id,
                actor_id=actor,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
            )
        changed = await tx.users.get(user.id)
    if changed is None:
        raise NotFound(NO_USER)
    return user_out(changed)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an account",
    responses=failures(404, 409),
)
async def delete_user(
    user_id: UserId, admin: Admin, services: ServicesDep, peer: PeerDep
) -> Response:
    """Delete the account and everything it holds, as ``authgate admin users
    delete`` does (``domain.deletion``): refused as a whole (409) for the last
    active administrator or the only owner of an organization with other
    members. Its audit entries stay, naming it by id."""
    async with services.db.transaction() as tx:
        await deletion.delete(
            tx,
            user_id,
            actor_id=admin.user_id,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
            notify=services.notices,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{user_id}/reset-factors",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an account's second factors",
    responses=failures(404),
)
async def reset_factors(
    user_id: UserId, admin: Admin, services: ServicesDep, peer: PeerDep
) -> Response:
    """Remove every second factor and recovery code of the account and end its
    sessions, for a person who lost their device, as ``authgate admin
    reset-factors`` does."""
    async with services.db.transaction() as tx:
        if await tx.users.get(user_id) is None:
            raise NotFound(NO_USER)
        await factors.reset(
            tx,
            user_id,
            actor_id=admin.user_id,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
            notify=services.notices,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{user_id}/reset-password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set an account's password",
    responses=failures(404),
)
async def reset_password(
    user_id: UserId,
    body: PasswordIn,
    admin: Admin,
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    """Set a new password and end every session of the account, as
    ``authgate admin reset-password`` does."""
    async with services.db.read() as tx:
        user = await tx.users.get(user_id)
    if user is None:
        raise NotFound(NO_USER)
    password_hash = await users.hash_password(
        services.hasher,
        body.new_password,
        username=user.username,
        min_length=services.settings.password_min_length,
    )
    async with services.db.transaction() as tx:
        # Read again under the write lock: the account may be gone by now.
        current = await tx.users.get(user_id)
        if current is None:
            raise NotFound(NO_USER)
        await account.replace_password(
            tx,
            services.notices,
            current,
            password_hash,
            actor_id=admin.user_id,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
