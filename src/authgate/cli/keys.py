"""``authgate keys create | list | revoke``: API keys."""

import argparse

from authgate.cli import output
from authgate.cli.options import Context, client_options


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parent = client_options()
    group = commands.add_parser("keys", help="API keys for server-to-server calls.")
    sub = group.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    create_parser = sub.add_parser(
        "create", parents=[parent], help="Create a key (shown once)."
    )
    create_parser.add_argument("name")
    create_parser.add_argument(
        "--permission", choices=["read", "write"], default="read"
    )
    create_parser.add_argument("--org", help="The organization the key belongs to.")
    create_parser.set_defaults(run=create)
    sub.add_parser("list", parents=[parent], help="List your keys.").set_defaults(
        run=list_
    )
    revoke_parser = sub.add_parser("revoke", parents=[parent], help="Revoke a key.")
    revoke_parser.add_argument("id")
    revoke_parser.set_defaults(run=revoke)


def create(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        created = client.create_key(args.name, permission=args.permission, org=args.org)
    if context.json:
        output.as_json(created)
        return 0
    output.success(f"API key created: {created['token']}")
    output.warning("Store this key securely - it won't be shown again!")
    return 0


def list_(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        found = client.list_keys()
    if context.json:
        output.as_json(found)
        return 0
    rows = [
        {
            **k,
            "created": output.when(k["created_at"]),
            "last_used": output.when(k["last_used_at"]),
        }
        for k in found
    ]
    output.table(
        rows,
        [
            ("id", "ID"),
            ("name", "NAME"),
            ("permission", "PERMISSION"),
            ("org_id", "ORG"),
            ("created", "CREATED"),
            ("last_used", "LAST USED"),
        ],
    )
    return 0


def revoke(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        client.revoke_key(args.id)
    if context.json:
        output.as_json({"id": args.id, "revoked": True})
    else:
        output.success("API key revoked")
    return 0
