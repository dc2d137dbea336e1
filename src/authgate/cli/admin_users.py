"""``authgate admin users list | show | disable | enable | delete``: accounts,
on the database directly (as every ``admin`` command), through the same
domain calls as ``/api/v1/admin/users`` and the console, so the rules (the
last administrator, the last owner of an org) and the audit entries are the
same. ``--json`` prints what the API answers."""

import argparse
import sys
from typing import TYPE_CHECKING, Any

from authgate.cli import output
from authgate.cli.database import cli_peer, run
from authgate.cli.options import whole_number

if TYPE_CHECKING:
    from authgate.domain.users import User
    from authgate.server.services import Services
    from authgate.storage.db import Tx

#: ``list`` without ``--limit``
LIST_LIMIT = 100


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    group = sub.add_parser("users", help="List, show, disable, enable, delete users.")
    users_sub = group.add_subparsers(
        dest="users_command", required=True, metavar="COMMAND"
    )

    listing = users_sub.add_parser("list", help="Users by username.")
    listing.add_argument(
        "--query", default="", help="Only those whose username or email has this."
    )
    listing.add_argument(
        "--limit",
        type=whole_number(1, 1000),
        default=LIST_LIMIT,
        help=f"At most this many (1-1000, default {LIST_LIMIT}).",
    )
    listing.add_argument("--json", action="store_true", help="Print JSON.")
    listing.set_defaults(run=list_users)

    for name, helped, command in (
        ("show", "Show one user.", show_user),
        (
            "disable",
            "Disable a user: end their sessions, revoke their tokens and keys, "
            "refuse their sign-ins.",
            disable_user,
        ),
        ("enable", "Enable a disabled user again.", enable_user),
        (
            "delete",
            "Delete a user and all they hold; the audit log keeps their entries.",
            delete_user,
        ),
    ):
        parser = users_sub.add_parser(name, help=helped)
        parser.add_argument("name", metavar="USER", help="Username or usr_… id.")
        if name == "delete":
            parser.add_argument(
                "--yes",
                action="store_true",
                help="Do not ask to type the username to confirm (for scripts).",
            )
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.set_defaults(run=command)


def _as_dict(user: "User") -> dict[str, Any]:
    """The user as ``/api/v1/admin/users`` answers it (never the hash)."""
    from authgate.web.api.v1.admin_users import user_out

    return user_out(user).model_dump(mode="json")


async def _find(tx: "Tx", name: str) -> "User":
    from authgate.domain import users
    from authgate.errors import InvalidRequest, NotFound

    if name.startswith("usr_"):
        found = await tx.users.get(name)
    else:
        try:
            found = await tx.users.by_username(users.normalize_username(name))
        except InvalidRequest:
            found = None
    if found is None:
        raise NotFound(f"No user named {name}.")
    return found


def _print(user: "User", as_json: bool) -> None:
    shown = _as_dict(user)
    if as_json:
        output.as_json(shown)
        return
    status = "active" if user.active else f"disabled since {shown['disabled_at']}"
    for label, value in (
        ("username", user.username),
        ("id", user.id),
        ("email", user.email or "-"),
        ("email verified", "yes" if user.email_verified else "no"),
        ("admin", "yes" if user.is_admin else "no"),
        ("status", status),
        ("created", shown["created_at"]),
    ):
        output.line(f"{label}: {value}")


def list_users(args: argparse.Namespace) -> int:
    async def work(services: "Services") -> list["User"]:
        async with services.db.read() as tx:
            return await tx.users.search(
                args.query.strip() or None, limit=args.limit, after=None
            )

    found = [_as_dict(u) for u in run(work)]
    if args.json:
        output.as_json(found)
        return 0
    for row in found:
        row["status"] = "active" if row["active"] else "disabled"
        row["email"] = row["email"] or "-"
    output.table(
        found,
        [
            ("username", "USERNAME"),
            ("id", "ID"),
            ("email", "EMAIL"),
            ("is_admin", "ADMIN"),
            ("status", "STATUS"),
            ("created_at", "CREATED"),
        ],
    )
    return 0


def show_user(args: argparse.Namespace) -> int:
    async def work(services: "Services") -> "User":
        async with services.db.read() as tx:
            return await _find(tx, args.name)

    _print(run(work), args.json)
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> "User":
    """Disabling revokes everything held too, as the API and the console do."""
    from authgate.domain import users

    async def work(services: "Services") -> "User":
        ttl = services.settings.jwt_expiry
        async with services.db.transaction() as tx:
            user = await _find(tx, args.name)
            if active and not user.active:
                await users.set_active(
                    tx, user.id, True, actor_id=None, access_ttl=ttl, peer=cli_peer()
                )
            elif not active and user.active:
                await users.disable(
                    tx, user.id, actor_id=None, access_ttl=ttl, peer=cli_peer()
                )
            return await _find(tx, user.id)

    return run(work)


def disable_user(args: argparse.Namespace) -> int:
    user = _set_active(args, False)
    if args.json:
        _print(user, True)
    else:
        output.success(
            f"Disabled {user.username}: their sessions ended and their tokens "
            "and keys were revoked."
        )
    return 0


def enable_user(args: argparse.Namespace) -> int:
    user = _set_active(args, True)
    if args.json:
        _print(user, True)
    else:
        output.success(f"Enabled {user.username}.")
    return 0


def _confirmed(name: str) -> bool:
    """Asked on a terminal only; a script must say ``--yes``."""
    if not sys.stdin.isatty():
        output.error("Deleting cannot be undone: pass --yes to confirm.")
        return False
    typed = input(f"This deletes {name} and all they hold. Type {name} to confirm: ")
    return typed.strip() == name


def delete_user(args: argparse.Namespace) -> int:
    from authgate.domain import deletion

    if not args.yes and not _confirmed(args.name):
        return 1

    async def work(services: "Services") -> deletion.Deleted:
        async with services.db.transaction() as tx:
            user = await _find(tx, args.name)
            return await deletion.delete(
                tx,
                user.id,
                actor_id=None,
                access_ttl=services.settings.jwt_expiry,
                peer=cli_peer(),
                notify=services.notices,
            )

    deleted = run(work)
    if args.json:
        output.as_json(
            {
                "id": deleted.user_id,
                "username": deleted.username,
                "sessions_ended": deleted.sessions,
                "grants_revoked": deleted.grants,
                "credentials_revoked": deleted.credentials,
                "orgs_deleted": list(deleted.orgs),
            }
        )
        return 0
    gone = f"; organizations deleted with it: {', '.join(deleted.orgs)}"
    output.success(
        f"Deleted {deleted.username} ({deleted.user_id}): {deleted.sessions} "
        f"sessions ended, {deleted.credentials} tokens and keys revoked"
        f"{gone if deleted.orgs else ''}."
    )
    return 0
