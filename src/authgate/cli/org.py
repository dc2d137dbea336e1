"""``authgate org list | use | create | members | invite``."""

import argparse

from authgate.cli import output
from authgate.cli.options import Context, client_options


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parent = client_options()
    group = commands.add_parser("org", help="Organizations.")
    sub = group.add_subparsers(dest="org_command", required=True, metavar="COMMAND")
    sub.add_parser("list", parents=[parent], help="Your organizations.").set_defaults(
        run=list_
    )
    use_parser = sub.add_parser(
        "use", parents=[parent], help="Act in an organization (slug or id)."
    )
    use_parser.add_argument("org")
    use_parser.set_defaults(run=use)
    create_parser = sub.add_parser(
        "create", parents=[parent], help="Create an organization."
    )
    create_parser.add_argument("name")
    create_parser.add_argument("--slug")
    create_parser.set_defaults(run=create)
    members_parser = sub.add_parser(
        "members", parents=[parent], help="Members of the current org."
    )
    members_parser.add_argument("--org", help="Another org than the current one.")
    members_parser.set_defaults(run=members)
    invite_parser = sub.add_parser(
        "invite", parents=[parent], help="Invite someone by email."
    )
    invite_parser.add_argument("email")
    invite_parser.add_argument(
        "--role", default="member", choices=["owner", "admin", "member", "viewer"]
    )
    invite_parser.add_argument("--org", help="Another org than the current one.")
    invite_parser.set_defaults(run=invite)


def list_(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        found = client.list_orgs()
    if context.json:
        output.as_json(found)
        return 0
    current = context.org
    rows = [{**o, "current": current in (o["id"], o["slug"])} for o in found]
    output.table(
        rows,
        [
            ("id", "ID"),
            ("slug", "SLUG"),
            ("name", "NAME"),
            ("role", "ROLE"),
            ("current", "CURRENT"),
        ],
    )
    return 0


def use(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        org = client.get_org(args.org)
    context.store.update(context.server, org=org["slug"])
    if context.json:
        output.as_json(org)
    else:
        output.success(f"Switched to organization: {org['name']}")
    return 0


def create(args: argparse.Namespace) -> int:
    context = Context(args)
    with context.client() as client:
        org = client.create_org(args.name, args.slug)
    if context.json:
        output.as_json(org)
    else:
        output.success(f"Created organization {org['name']} ({org['slug']})")
    return 0


def _current(context: Context, explicit: str | None) -> str:
    from authgate.client import AuthgateClientError

    org = explicit or context.org
    if org:
        return org
    with context.client() as client:
        me = client.me()
    if not me.get("org_id"):
        raise AuthgateClientError(
            "No organization chosen. Run 'authgate org use SLUG'."
        )
    return str(me["org_id"])


def members(args: argparse.Namespace) -> int:
    context = Context(args)
    org = _current(context, args.org)
    with context.client() as client:
        found = client.org_members(org)
    if context.json:
        output.as_json(found)
        return 0
    output.table(
        found,
        [
            ("user_id", "ID"),
            ("username", "USERNAME"),
            ("email", "EMAIL"),
            ("role", "ROLE"),
        ],
    )
    return 0


def invite(args: argparse.Namespace) -> int:
    context = Context(args)
    org = _current(context, args.org)
    with context.client() as client:
        created = client.invite(org, args.email, args.role)
    if context.json:
        output.as_json(created)
        return 0
    output.success(f"Invited {args.email} as {args.role}. Share this link:")
    output.line(f"  {created['url']}")
    output.warning(
        "The link works once and expires; anyone holding it can join as that email."
    )
    return 0
