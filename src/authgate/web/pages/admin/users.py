"""``/admin/users``: find, create, disable, enable and delete accounts, set a
new password, grant and revoke the administrator role.

Every change goes through the same domain calls as the CLI, the back office
and ``/api/v1/admin/users`` (``users.prepare`` and ``add``, ``disable``,
``set_active``, ``hash_password`` and ``replace_password``, ``set_admin``), so
each is audited with the admin as actor, and the last-admin rule holds here as
everywhere. Passwords are hashed before the transaction opens. Disabling
here, as in the API, also ends the account's sessions and revokes its tokens
and keys, so an account enabled again holds nothing from before. Deleting
(``domain.deletion``) asks for the username to be typed again, as a deletion
cannot be undone.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import account, deletion, factors, users, verification
from authgate.domain.users import User
from authgate.errors import AuthgateError
from authgate.server.mailing import mailing
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.admin.gate import (
    PAGE_SIZE,
    AdminForm,
    AdminViewer,
    admin_transaction,
    console_page,
)
from authgate.web.pages.viewer import PageRoute, Viewer
from authgate.web.render import error_page

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

UserId = Annotated[str, Path(max_length=64)]
Text = Annotated[str, Form(max_length=1024)]
#: What a finished action says on the page it lands on (``?done=``).
DONE = {
    "created": "The account was created.",
    "disabled": "The account is disabled: its sessions ended, its tokens and "
    "keys were revoked, and it cannot sign in.",
    "enabled": "The account is enabled again.",
    "deleted": "The account was deleted with all it held; the audit log keeps "
    "its entries.",
    "password": "The password was changed, and every session of the account ended.",
    "granted": "The account is now an instance administrator.",
    "revoked": "The account is no longer an instance administrator.",
    "factors": "Every second factor and recovery code of the account was removed, "
    "and every session ended: they sign in with their password and set a factor "
    "up again.",
}
NO_USER = "No such user."
NOT_CONFIRMED = "Type the account's username to confirm its deletion."


async def _user(services: Services, user_id: str) -> User | None:
    async with services.db.read() as tx:
        return await tx.users.get(user_id)


@router.get(paths.ADMIN, response_model=None)
async def console_home() -> Response:
    return RedirectResponse(paths.ADMIN_USERS, status_code=303)


@router.get(paths.ADMIN_USERS, response_model=None)
async def list_users(
    request: Request,
    viewer: AdminViewer,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=320)] = "",
    after: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    text = q.strip()
    async with services.db.read() as tx:
        found = await tx.users.search(
            text or None, limit=PAGE_SIZE + 1, after=after or None
        )
    return console_page(
        viewer,
        "admin/users.html",
        section="users",
        users=found[:PAGE_SIZE],
        q=text,
        after=after,
        next_after=found[PAGE_SIZE - 1].username if len(found) > PAGE_SIZE else None,
        done=DONE.get(request.query_params.get("done", "")),
    )


def _new_user_form(
    viewer: Viewer,
    *,
    username: str = "",
    email: str = "",
    is_admin: bool = False,
    email_verified: bool = False,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return console_page(
        viewer,
        "admin/user_new.html",
        section="users",
        status=status,
        username=username,
        email=email,
        is_admin=is_admin,
        email_verified=email_verified,
        error=error,
    )


@router.get(f"{paths.ADMIN_USERS}/new", response_model=None)
async def new_user(viewer: AdminViewer) -> Response:
    return _new_user_form(viewer)


@router.post(paths.ADMIN_USERS, response_model=None)
async def create_user(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    username: Text = "",
    email: Text = "",
    password: Text = "",
    is_admin: Annotated[bool, Form()] = False,
    email_verified: Annotated[bool, Form()] = False,
) -> Response:
    try:
        account = await users.prepare(
            services.hasher,
            username=username,
            password=password,
            email=email,
            min_length=services.settings.password_min_length,
        )
        async with admin_transaction(services, viewer) as tx:
            user = await verification.add_account(
                tx,
                mailing(services),
                account,
                is_admin=is_admin,
                actor_id=viewer.user.id,
                peer=peer,
                email_verified=email_verified,
            )
    except AuthgateError as exc:
        return _new_user_form(
            viewer,
            username=username,
            email=email,
            is_admin=is_admin,
            email_verified=email_verified,
            error=exc.description,
            status=exc.status,
        )
    return RedirectResponse(
        f"{paths.ADMIN_USERS}/{user.id}?done=created", status_code=303
    )


def _user_page(
    services: Services,
    viewer: Viewer,
    user: User,
    *,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return console_page(
        viewer,
        "admin/user.html",
        section="users",
        status=status,
        user=user,
        done=done,
        error=error,
        min_length=services.settings.password_min_length,
    )


@router.get(f"{paths.ADMIN_USERS}/{{user_id}}", response_model=None)
async def show_user(
    request: Request, viewer: AdminViewer, services: ServicesDep, user_id: UserId
) -> Response:
    user = await _user(services, user_id)
    if user is None:
        return error_page(NO_USER, status=404)
    done = DONE.get(request.query_params.get("done", ""))
    return _user_page(services, viewer, user, done=done)


async def _change(
    viewer: Viewer,
    services: Services,
    peer: PeerDep,
    user_id: str,
    *,
    done: str,
    password_hash: str = "",
) -> Response:
    """One action (``done`` names it) on one account, in one transaction;
    refused, the account's page again with the reason."""
    actor_id = viewer.user.id
    ttl = services.settings.jwt_expiry
    try:
        async with admin_transaction(services, viewer) as tx:
            user = await tx.users.get(user_id)
            if user is None:
                return error_page(NO_USER, status=404)
            if done == "disabled":
                await users.disable(
                    tx, user.id, actor_id=actor_id, access_ttl=ttl, peer=peer
                )
            elif done == "enabled":
                await users.set_active(
                    tx, user.id, True, actor_id=actor_id, access_ttl=ttl, peer=peer
                )
            elif done in ("granted", "revoked"):
                await users.set_admin(
                    tx, user.id, done == "granted", actor_id=actor_id, peer=peer
                )
            elif done == "factors":
                await factors.reset(
                    tx,
                    user.id,
                    actor_id=actor_id,
                    access_ttl=ttl,
                    peer=peer,
                    notify=services.notices,
                )
            else:
                await account.replace_password(
                    tx,
                    services.notices,
                    user,
                    password_hash,
                    actor_id=actor_id,
                    access_ttl=ttl,
                    peer=peer,
                )
    except AuthgateError as exc:
        current = await _user(services, user_id)
        if current is None:
            return error_page(NO_USER, status=404)
        return _user_page(
            services, viewer, current, error=exc.description, status=exc.status
        )
    return RedirectResponse(
        f"{paths.ADMIN_USERS}/{user_id}?done={done}", status_code=303
    )


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/disable", response_model=None)
async def disable_user(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
) -> Response:
    return await _change(viewer, services, peer, user_id, done="disabled")


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/enable", response_model=None)
async def enable_user(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
) -> Response:
    return await _change(viewer, services, peer, user_id, done="enabled")


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/grant-admin", response_model=None)
async def grant_admin(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
) -> Response:
    return await _change(viewer, services, peer, user_id, done="granted")


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/revoke-admin", response_model=None)
async def revoke_admin(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
) -> Response:
    return await _change(viewer, services, peer, user_id, done="revoked")


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/reset-factors", response_model=None)
async def reset_factors(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
) -> Response:
    return await _change(viewer, services, peer, user_id, done="factors")


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/password", response_model=None)
async def reset_password(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
    password: Text = "",
) -> Response:
    user = await _user(services, user_id)
    if user is None:
        return error_page(NO_USER, status=404)
    try:
        # Hashed before the transaction: it would hold the write lock ~40 ms.
        password_hash = await users.hash_password(
            services.hasher,
            password,
            username=user.username,
            min_length=services.settings.password_min_length,
        )
    except AuthgateError as exc:
        return _user_page(
            services, viewer, user, error=exc.description, status=exc.status
        )
    return await _change(
        viewer, services, peer, user_id, done="password", password_hash=password_hash
    )


@router.post(f"{paths.ADMIN_USERS}/{{user_id}}/delete", response_model=None)
async def delete_user(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    user_id: UserId,
    confirm: Text = "",
) -> Response:
    user = await _user(services, user_id)
    if user is None:
        return error_page(NO_USER, status=404)
    if confirm.strip() != user.username:
        return _user_page(services, viewer, user, error=NOT_CONFIRMED, status=400)
    try:
        async with admin_transaction(services, viewer) as tx:
            await deletion.delete(
                tx,
                user.id,
                actor_id=viewer.user.id,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
                notify=services.notices,
            )
    except AuthgateError as exc:
        return _user_page(
            services, viewer, user, error=exc.description, status=exc.status
        )
    return RedirectResponse(f"{paths.ADMIN_USERS}?done=deleted", status_code=303)
