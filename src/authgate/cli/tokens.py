"""``authgate tokens create | list | revoke``: personal access tokens, which
the API calls ``/api/v1/access-tokens``."""

import argparse

from authgate.cli import output
from authgate.cli.options import Context, client_options


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parent = client_options()
    group = commands.add_parser(
        "tokens", help="Personal access tokens (the API's /api/v1/access-tokens)."
    )
    sub = group.add_subparsers(dest="tokens_command", required=True, metavar="COMMAND")
    create_parser = sub.add_parser(
        "create", parents=[parent], help="Create a token (shown once)."
    )
    create_parser.add_argument("name")
    create_parser.add_argument(
        "--expires-in-days", type=int, default=90, help="Lifetime (default 90)."
    )
    create_parser.add_argument(
        "--scope", action="append", dest="scopes", help="read or write; repeat."
    )
    create_parser.add_argument("--org", help="Bind the token to an organization.")
    create_parser.set_defaults(run=create)
    sub.add_parser("list", parents=[parent], help="List your tokens.").set_defaults(
        run=list_
    )
    revoke_parser = sub.add_parser("revoke", parents=[parent], help="Revoke a token.")
    revoke_parser.add_argument("id")
    revoke_parser.set_defaults(run=revoke)


def create(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        created = client.create_token(
            args.name,
            expires_in_days=args.expires_in_days,
            scopes=args.scopes,
            org=args.org,
        )
    if context.json:
        output.as_json(created)
        return 0
    output.success(f"Token created: {created['token']}")
    output.warning("Store this token securely - it won't be shown again!")
    return 0


def list_(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        found = client.list_tokens()
    if context.json:
        output.as_json(found)
        return 0
    rows = [
        {
            **t,
            "created": output.when(t["created_at"]),
            "last_used": output.when(t["last_used_at"]),
            "expires": (t["expires_at"] or "")[:10] or "never",
        }
        for t in found
    ]
    output.table(
        rows,
        [
            ("id", "ID"),
            ("name", "NAME"),
            ("created", "CREATED"),
            ("last_used", "LAST USED"),
            ("expires", "EXPIRES"),
        ],
    )
    return 0


def revoke(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        client.revoke_token(args.id)
    if context.json:
        output.as_json({"id": args.id, "revoked": True})
    else:
        output.success("Token revoked")
    return 0
