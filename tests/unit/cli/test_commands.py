"""The command table: ``authgate --help`` lists every command from
``COMMANDS`` without building the groups, so the table must say what the groups
themselves register."""

import argparse
from collections.abc import Iterator

import pytest

from authgate.cli import COMMANDS, _dispatch, build_parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    (action,) = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    return {choice.dest: choice.help for choice in action._choices_actions}


def test_the_table_matches_what_the_groups_register() -> None:
    full = subcommands(build_parser())
    assert list(full.items()) == [(name, help_) for name, _, help_ in COMMANDS]


def test_help_lists_every_command_without_building_any() -> None:
    listed = build_parser(["--help"])
    assert subcommands(listed) == subcommands(build_parser())
    assert listed.format_help() == build_parser().format_help()


@pytest.mark.parametrize(
    "argv",
    [
        ["auth", "status", "--json"],
        ["--version"],
        ["whoami", "--server", "http://x", "--token", "t"],
        ["tokens", "create", "ci", "--expires-in-days", "7", "--scope", "read"],
        ["org", "invite", "a@example.com", "--role", "admin"],
        ["sessions", "revoke-all", "--yes"],
        ["db", "upgrade"],
        ["serve", "--port", "9000", "--workers", "2"],
    ],
)
def test_a_command_parses_as_with_every_group_built(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def parse(parser: argparse.ArgumentParser) -> object:
        try:
            return vars(parser.parse_args(argv))
        except SystemExit as exc:
            return ("exit", exc.code, capsys.readouterr().out)

    assert parse(build_parser(argv)) == parse(build_parser())


def test_only_the_chosen_group_is_built() -> None:
    parser = build_parser(["keys", "list"])
    (action,) = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    assert set(action.choices) == {"keys"}
    listed = build_parser(["--help"])
    (action,) = [
        a for a in listed._actions if isinstance(a, argparse._SubParsersAction)
    ]
    assert set(action.choices) == {name for name, _, _ in COMMANDS}
    assert not any(sub._actions for sub in action.choices.values())  # stubs


def test_a_misspelt_command_lists_them_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser(["tokenz", "list"]).parse_args(["tokenz", "list"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'tokenz'" in err
    for name, _, _ in COMMANDS:
        assert f"'{name}'" in err


def _failing(exc: Exception) -> argparse.Namespace:
    def run(_args: argparse.Namespace) -> int:
        raise exc

    return argparse.Namespace(command="serve", run=run)


def test_a_command_missing_an_extra_says_which_to_install(
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = ModuleNotFoundError("No module named 'sqlalchemy'", name="sqlalchemy")
    assert _dispatch(_failing(missing)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: 'authgate serve' needs the server extra")
    assert "pip install 'authgate[server]'" in err
    assert err.count("\n") == 1


def test_a_missing_module_of_no_extra_is_an_ordinary_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = ModuleNotFoundError("No module named 'nowhere'", name="nowhere")
    assert _dispatch(_failing(missing)) == 1
    assert "extra" not in capsys.readouterr().err


def test_every_command_takes_debug() -> None:
    """Any command's unexpected error says "run with --debug for details"."""

    def leaves(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        groups = [
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        ]
        if not groups:
            options = {o for a in parser._actions for o in a.option_strings}
            if "--debug" not in options:
                yield path
        for group in groups:
            for name, command in group.choices.items():
                yield from leaves(command, f"{path} {name}")

    every = build_parser()
    assert list(leaves(every, "authgate")) == []
    for name, _, _ in COMMANDS:  # the same with only that group built
        assert list(leaves(build_parser([name]), "authgate")) == []
    args = build_parser(["admin"]).parse_args(["admin", "rotate-keys", "--debug"])
    assert args.debug is True
