"""``authgate``: runs the server and is a client of it.

Built on argparse, with each command importing what it needs inside its
function: ``authgate --help`` and ``authgate auth status`` start in about the
time Python itself takes (Typer/Click alone cost several times that). Shell
completion comes from argcomplete (``eval "$(register-python-argcomplete
authgate)"``), loaded only while completing.
"""

import argparse
import os
import sys
from collections.abc import Sequence

from authgate import __version__
from authgate.cli import admin, auth, keys, org, serve, sessions, tokens


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authgate",
        description="Self-hosted authentication server and its client.",
    )
    parser.add_argument(
        "--version", action="version", version=f"authgate {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (serve, admin, auth, tokens, keys, sessions, org):
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    sys.exit(_dispatch(args))


def _dispatch(args: argparse.Namespace) -> int:
    from authgate.cli import output

    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        output.error("Interrupted.")
        return 130
    except SystemExit:
        raise
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        from authgate.client._errors import AuthgateClientError

        if isinstance(exc, AuthgateClientError):
            output.error(str(exc))
        else:
            output.error(f"{type(exc).__name__}: {exc} (run with --debug for details)")
        return 1
