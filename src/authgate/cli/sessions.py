"""``authgate sessions list | revoke | revoke-all --yes``."""

import argparse

from authgate.cli import output
from authgate.cli.options import Context, client_options


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parent = client_options()
    group = commands.add_parser("sessions", help="Your sign-in sessions.")
    sub = group.add_subparsers(
        dest="sessions_command", required=True, metavar="COMMAND"
    )
    sub.add_parser("list", parents=[parent], help="List active sessions.").set_defaults(
        run=list_
    )
    revoke_parser = sub.add_parser("revoke", parents=[parent], help="End one session.")
    revoke_parser.add_argument("id")
    revoke_parser.set_defaults(run=revoke)
    all_parser = sub.add_parser(
        "revoke-all", parents=[parent], help="End every session, this one too."
    )
    all_parser.add_argument("--yes", action="store_true", help="Confirm.")
    all_parser.set_defaults(run=revoke_all)


def list_(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        found = client.list_sessions()
    if context.json:
        output.as_json(found)
        return 0
    rows = [
        {
            **s,
            "id": s["id"] + (" (current)" if s["current"] else ""),
            "last_active": output.when(s["last_active_at"]),
            "location": s["location"] or s["ip"] or "",
        }
        for s in found
    ]
    output.table(
        rows,
        [
            ("id", "ID"),
            ("device", "DEVICE"),
            ("last_active", "LAST ACTIVE"),
            ("location", "LOCATION"),
        ],
    )
    return 0


def revoke(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        client.revoke_session(args.id)
    if context.json:
        output.as_json({"id": args.id, "revoked": True})
    else:
        output.success("Session revoked")
    return 0


def revoke_all(args: argparse.Namespace) -> int:
    context = Context(args)
    if not args.yes:
        output.error(
            "This ends every session, this one included. Add --yes to confirm."
        )
        return 2
    with context.client() as client:
        count = client.revoke_all_sessions()
    if context.json:
        output.as_json({"revoked": count})
    else:
        output.success(f"Revoked {count} session{'s' if count != 1 else ''}")
    return 0
