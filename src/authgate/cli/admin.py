"""``authgate admin …``: operator commands that work on the database directly,
so they work before any account exists and without a running server."""

import argparse
import sys
from typing import TYPE_CHECKING

from authgate.cli import output
from authgate.cli.database import cli_peer, run
from authgate.cli.options import whole_number

if TYPE_CHECKING:
    from authgate.server.services import Services


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    group = commands.add_parser(
        "admin", help="Administer users, invites, clients and keys."
    )
    sub = group.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")

    create = sub.add_parser("create-user", help="Create a local account.")
    create.add_argument("name")
    create.add_argument("--email", help="Email address.")
    create.add_argument(
        "--email-verified",
        action="store_true",
        help="The address is known to be theirs: mail no verification link.",
    )
    create.add_argument(
        "--admin", action="store_true", help="Make an instance administrator."
    )
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="Read the password from standard input.",
    )
    create.set_defaults(run=create_user)

    reset = sub.add_parser(
        "reset-password", help="Set a user's password and end their sessions."
    )
    reset.add_argument("name")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="Read the password from standard input.",
    )
    reset.set_defaults(run=reset_password)

    factors_parser = sub.add_parser(
        "reset-factors",
        help="Remove a user's second factors and recovery codes, and end their "
        "sessions (they lost their device).",
    )
    factors_parser.add_argument("name")
    factors_parser.set_defaults(run=reset_factors)

    invite = sub.add_parser("invite", help="Instance invite codes.")
    invite_sub = invite.add_subparsers(
        dest="invite_command", required=True, metavar="COMMAND"
    )
    invite_create_parser = invite_sub.add_parser(
        "create", help="Print a single-use invite code."
    )
    invite_create_parser.add_argument(
        "--expires-in-days",
        type=whole_number(1, 365, "days"),
        help="Days until the code expires (1-365).",
    )
    invite_create_parser.add_argument(
        "--email", help="Mail the invite to this address; only it can use it."
    )
    invite_create_parser.set_defaults(run=invite_create)

    client = sub.add_parser(
        "create-client",
        help="Register an OAuth client; prints client_id (and client_secret).",
    )
    client.add_argument("name")
    client.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="A redirect URI (repeatable): https, loopback http (any port), or "
        "a reverse-domain scheme such as com.example.app:/callback.",
    )
    client.add_argument(
        "--public",
        action="store_true",
        help="A public client (native app, CLI): no secret, PKCE only.",
    )
    client.add_argument(
        "--grant",
        action="append",
        dest="grants",
        metavar="GRANT",
        help="Grant type (repeatable): authorization_code, refresh_token, "
        "client_credentials, device_code. Default: authorization_code and "
        "refresh_token with a redirect URI; else client_credentials "
        "(confidential) or device_code and refresh_token (public).",
    )
    client.add_argument(
        "--scope", help="Scopes the client may ask for (default: every scope)."
    )
    client.add_argument("--json", action="store_true", help="Print JSON.")
    client.set_defaults(run=create_client)

    sub.add_parser(
        "rotate-keys",
        help="New signing keys; old ones stay published until their tokens expire.",
    ).set_defaults(run=rotate_keys)

    sub.add_parser(
        "rotate-secret",
        help="Re-seal what is stored under AUTHGATE_SECRET_KEY_PREVIOUS with "
        "AUTHGATE_SECRET_KEY, so the previous secret can be dropped.",
    ).set_defaults(run=rotate_secret)

    prune_parser = sub.add_parser(
        "prune",
        help="Delete expired sessions, tokens, codes and other rows that no "
        "longer matter, now (the server does it every "
        "AUTHGATE_HOUSEKEEPING_INTERVAL).",
    )
    prune_parser.add_argument("--json", action="store_true", help="Print JSON.")
    prune_parser.set_defaults(run=prune)

    from authgate.cli import admin_users

    admin_users.register(sub)

    mail_test_parser = sub.add_parser(
        "mail-test",
        help="Queue a test message to ADDRESS, to check the mail settings "
        "(AUTHGATE_SMTP_URL); a running server sends it within seconds.",
    )
    mail_test_parser.add_argument("address", type=_address, metavar="ADDRESS")
    mail_test_parser.add_argument(
        "--note", default="", help="A line the message shows, to tell tests apart."
    )
    mail_test_parser.set_defaults(run=mail_test)


def _address(text: str) -> str:
    from email.utils import parseaddr

    _name, address = parseaddr(text)
    if "@" not in address or address != text.strip() or "\n" in text:
        raise argparse.ArgumentTypeError(
            "must be one email address, e.g. ada@example.com"
        )
    return address


def _password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        output.error("The passwords do not match.")
        raise SystemExit(1)
    return first


def create_user(args: argparse.Namespace) -> int:
    from authgate.domain import users, verification
    from authgate.server.mailing import mailing

    password = _password(args.password_stdin)

    async def work(services: "Services") -> users.User:
        account = await users.prepare(
            services.hasher,
            username=args.name,
            password=password,
            email=args.email,
            min_length=services.settings.password_min_length,
        )
        async with services.db.transaction() as tx:
            return await verification.add_account(
                tx,
                mailing(services),
                account,
                is_admin=args.admin,
                actor_id=None,
                peer=cli_peer(),
                email_verified=args.email_verified,
            )

    user = run(work)
    role = " as admin" if user.is_admin else ""
    output.success(f"Created user {user.username} ({user.id}){role}.")
    return 0


def reset_password(args: argparse.Namespace) -> int:
    from authgate.domain import account, users
    from authgate.errors import NotFound

    password = _password(args.password_stdin)

    async def work(services: "Services") -> None:
        name = users.normalize_username(args.name)
        async with services.db.read() as tx:
            user = await tx.users.by_username(name)
        if user is None:
            raise NotFound(f"No user named {args.name}.")
        password_hash = await users.hash_password(
            services.hasher,
            password,
            username=user.username,
            min_length=services.settings.password_min_length,
        )
        async with services.db.transaction() as tx:
            # Read again under the write lock: the account may be gone by now.
            user = await tx.users.get(user.id)
            if user is None:
                raise NotFound(f"No user named {args.name}.")
            await account.replace_password(
                tx,
                services.notices,
                user,
                password_hash,
                actor_id=None,
                access_ttl=services.settings.jwt_expiry,
                peer=cli_peer(),
            )

    run(work)
    output.success(
        f"Password reset for {args.name}; their sessions and app logins were ended."
    )
    return 0


def reset_factors(args: argparse.Namespace) -> int:
    from authgate.domain import factors, users
    from authgate.errors import NotFound

    async def work(services: "Services") -> None:
        async with services.db.transaction() as tx:
            user = await tx.users.by_username(users.normalize_username(args.name))
            if user is None:
                raise NotFound(f"No user named {args.name}.")
            await factors.reset(
                tx,
                user.id,
                actor_id=None,
                access_ttl=services.settings.jwt_expiry,
                peer=cli_peer(),
                notify=services.notices,
            )

    run(work)
    output.success(
        f"Second factors reset for {args.name}; their sessions and app logins "
        "were ended. They sign in with their password and set a factor up again."
    )
    return 0


def invite_create(args: argparse.Namespace) -> int:
    """Prints only the code, so scripts can capture it."""
    from authgate.domain import invite_mail
    from authgate.server.mailing import mailing

    async def work(services: "Services") -> str:
        async with services.db.transaction() as tx:
            _invite, code = await invite_mail.create(
                tx,
                mailing(services),
                created_by=None,
                expires_in_days=args.expires_in_days,
                email=args.email,
                peer=cli_peer(),
            )
        return code

    output.line(run(work))
    return 0


def create_client(args: argparse.Namespace) -> int:
    """Prints ``client_id: …`` and ``client_secret: …`` lines (the secret only
    for a confidential client, and only now), or one JSON object."""
    from authgate.domain import clients

    async def work(services: "Services") -> tuple[clients.Client, str | None]:
        async with services.db.transaction() as tx:
            return await clients.create(
                tx,
                prefix=services.settings.token_prefix,
                name=args.name,
                redirect_uris=args.redirect_uri,
                grant_types=args.grants,
                public=args.public,
                scope=args.scope,
                created_by=None,
                peer=cli_peer(),
            )

    client, secret = run(work)
    if args.json:
        output.as_json(
            {
                "client_id": client.id,
                "client_secret": secret,
                "name": client.name,
                "public": client.public,
                "redirect_uris": list(client.redirect_uris),
                "grant_types": list(client.grant_types),
                "token_endpoint_auth_method": client.auth_method,
                "scope": client.scope,
            }
        )
        return 0
    output.line(f"client_id: {client.id}")
    if secret is not None:
        output.line(f"client_secret: {secret}")
    return 0


def rotate_keys(_args: argparse.Namespace) -> int:
    from authgate.domain import signing_keys

    async def work(services: "Services") -> list[str]:
        async with services.db.transaction() as tx:
            return await signing_keys.rotate(
                tx, services.keys.cipher, actor_id=None, peer=cli_peer()
            )

    output.success("New signing keys: " + ", ".join(run(work)))
    return 0


def rotate_secret(_args: argparse.Namespace) -> int:
    """In one transaction: signing keys' private parts, authenticator-app
    secrets and queued mail, opened under either secret and sealed under the
    new one (docs/deployment.md, "Rotating the secret")."""
    from authgate.domain import audit, mail, signing_keys, totp
    from authgate.errors import InvalidRequest

    async def work(services: "Services") -> dict[str, int]:
        if services.settings.secret_key_previous is None:
            raise InvalidRequest(
                "AUTHGATE_SECRET_KEY_PREVIOUS is not set: set it to the secret "
                "being replaced, and AUTHGATE_SECRET_KEY to the new one."
            )
        async with services.db.transaction() as tx:
            keys = await signing_keys.reseal(tx, services.keys.cipher)
            factors = await totp.reseal(tx, services.factor_keys.totp)
            queued = await mail.reseal(tx, services.mail.sealer)
            counts = {
                "signing_keys": keys,
                "totp_secrets": factors.done,
                "queued_mail": queued.done,
                "unreadable": factors.unreadable + queued.unreadable,
            }
            await audit.record(
                tx, audit.Action.SECRET_ROTATED, cli_peer(), details=counts
            )
        return counts

    counts = run(work)
    output.success(
        f"Re-sealed under AUTHGATE_SECRET_KEY: {counts['signing_keys']} signing "
        f"keys, {counts['totp_secrets']} authenticator-app secrets, "
        f"{counts['queued_mail']} queued messages."
    )
    if counts["unreadable"]:
        output.error(
            f"{counts['unreadable']} stored values open under neither secret (they "
            "were sealed under an older one) and were left as they are."
        )
    output.line(
        "AUTHGATE_SECRET_KEY_PREVIOUS can be removed once every instance runs "
        "with the new secret; recovery codes issued before this rotation stop "
        "working then (docs/deployment.md)."
    )
    return 0


def prune(args: argparse.Namespace) -> int:
    from authgate.server import housekeeping

    async def work(services: "Services") -> dict[str, int] | None:
        rules = housekeeping.policy(services.settings)
        return await housekeeping.run(services.db, rules)

    counts = run(work)
    if counts is None:
        # Not a failure: the other instance is doing this very job.
        output.warning("Another instance is pruning right now; nothing done.")
        return 0
    if args.json:
        output.as_json(counts)
        return 0
    output.table(
        [{"store": store, "deleted": str(n)} for store, n in counts.items()],
        [("store", "STORE"), ("deleted", "DELETED")],
    )
    return 0


def mail_test(args: argparse.Namespace) -> int:
    """Queues, not sends: the message takes the path every message takes (the
    queue, a server's sender, the transport), so its arrival proves that path."""
    from authgate.domain import mail

    async def work(services: "Services") -> str:
        message = mail.Message(args.address, "test", {"note": args.note})
        async with services.db.transaction() as tx:
            return await mail.queue(tx, services.mail.sealer, message)

    message_id = run(work)
    output.success(
        f"Queued test message {message_id} to {args.address}. A running server "
        "sends it within seconds; its log says how that went (look for "
        f"{message_id})."
    )
    return 0
