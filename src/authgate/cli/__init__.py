"""``authgate``: runs the server and is a client of it.

Built on argparse, with each command importing what it needs inside its
function, and with only the command group being run built at all: ``authgate
auth status`` imports and builds the ``auth`` group alone, and ``authgate
--help`` lists every group from ``COMMANDS`` without building any. That keeps
both within a few times the start-up of Python itself (Typer/Click alone cost
several times that). Shell completion comes from argcomplete (``eval
"$(register-python-argcomplete authgate)"``), loaded only while completing,
with the whole tree built.
"""

import argparse
import os
import sys

from authgate import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: Every top-level command, in the order ``--help`` lists them: (name, the
#: module whose ``register()`` adds it, its one-line help). The help is repeated
#: here so the listing needs no module; a test keeps both in step.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("serve", "serve", "Run the server (SQLite in ./.authgate by default)."),
    ("db", "serve", "Database commands."),
    ("admin", "admin", "Administer users, invites, clients and keys."),
    ("auth", "auth", "Sign the CLI in and out."),
    ("whoami", "auth", "Show the signed-in user."),
    ("tokens", "tokens", "Personal access tokens (the API's /api/v1/access-tokens)."),
    ("keys", "keys", "API keys for server-to-server calls."),
    ("sessions", "sessions", "Your sign-in sessions."),
    ("org", "org", "Organizations."),
)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without ``shutil``: argparse makes one per
    ``add_argument``, and the stock one imports shutil (and with it bz2, lzma
    and zlib) for the terminal width, a sixth of ``authgate --help``."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog,
            indent_increment,
            max_help_position,
            width if width is not None else _columns() - 2,
        )


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        stdout = sys.__stdout__
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns if stdout else 0
        except (ValueError, OSError):  # closed, or not a terminal
            columns = 0
    return columns or 80


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subparsers (of the same class) use HelpFormatter."""

    def __init__(self, *args: "Any", **kwargs: "Any") -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(argv: "Sequence[str] | None" = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the group it names is built; a bare list
    of the commands when it names none; every group for ``None`` (completion)."""
    from importlib import import_module

    parser = Parser(
        prog="authgate",
        description="Self-hosted authentication server and its client.",
    )
    parser.add_argument(
        "--version", action="version", version=f"authgate {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = _modules(argv)
    registered: set[str] = set()
    for name, module, help_text in COMMANDS:
        if wanted is None or module in wanted:
            if module not in registered:
                registered.add(module)
                import_module(f"authgate.cli.{module}").register(commands)
        elif not wanted:
            # No command named: list them all (--help, or the error for a
            # misspelt one). Each parser argparse builds costs ~0.3 ms.
            commands.add_parser(name, help=help_text, add_help=False)
    for name, module, _ in COMMANDS:
        if module in registered:
            _add_debug(commands.choices[name])
    return parser


def _add_debug(parser: argparse.ArgumentParser) -> None:
    """``--debug`` on every command, after its name as its other options: any
    command's unexpected error ends with "run with --debug", so each takes it."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        parser.add_argument(
            "--debug", action="store_true", help="Show tracebacks on errors."
        )
    for group in groups:
        for command in dict.fromkeys(group.choices.values()):  # aliases: once
            _add_debug(command)


def _modules(argv: "Sequence[str] | None") -> set[str] | None:
    """The modules ``argv`` needs built: that of its command word (the first
    argument that is not an option: the top-level options, --help and
    --version, take no value), none without one, all for ``None``."""
    if argv is None:
        return None
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return {module for name, module, _ in COMMANDS if name == word}


def main(argv: "Sequence[str] | None" = None) -> None:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(build_parser())
    args = build_parser(arguments).parse_args(arguments)
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
        if isinstance(exc, ModuleNotFoundError) and _missing_extra(args.command, exc):
            return 2
        from authgate.client._errors import AuthgateClientError

        if isinstance(exc, AuthgateClientError):
            output.error(str(exc))
        else:
            output.error(f"{type(exc).__name__}: {exc} (run with --debug for details)")
        return 1


def _missing_extra(command: str, exc: ModuleNotFoundError) -> bool:
    """Say which extra to install when a command needs one the base package
    lacks (the server's commands on a guard-and-client install); False when
    the missing module is none of the extras'."""
    from authgate.cli import output
    from authgate.util.extras import extra_for, install_hint

    extra = extra_for(exc.name or "")
    if extra is None:
        return False
    output.error(
        f"'authgate {command}' needs the {extra} extra, which is not installed "
        f"(no module named {exc.name!r}): {install_hint(extra)}"
    )
    return True
