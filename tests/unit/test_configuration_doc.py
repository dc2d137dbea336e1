"""docs/configuration.md is generated here from ``authgate.config.Settings`` (each
field's group, type, bounds, default and description) and must stay in step with
it: a setting added, renamed, re-described or given a new default fails this test
until the page is regenerated with ``REGENERATE``."""

import difflib
import types
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr

from authgate.config import Group, Settings, file_settings
from authgate.util.durations import format_duration

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
REGENERATE = "./dev python -m tests.unit.test_configuration_doc"


def group_of(name: str) -> Group:
    (group,) = [m for m in Settings.model_fields[name].metadata if isinstance(m, Group)]
    return group


def setting_groups() -> dict[Group, list[str]]:
    """Field names under each :class:`Group`, in the groups' order and then the
    class's."""
    return {
        group: [name for name in Settings.model_fields if group_of(name) is group]
        for group in Group
    }


def env_name(name: str) -> str:
    alias = Settings.model_fields[name].alias
    return alias.upper() if alias else f"AUTHGATE_{name.upper()}"


def _type_text(annotation: Any) -> str:
    if get_origin(annotation) is Annotated:  # a Duration inside ``| None``
        return _type_text(get_args(annotation)[0])
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType) and len(args) == 1:
        return _type_text(args[0])
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(annotation))
    if get_origin(annotation) is list:
        return "list (comma-separated)"
    known: dict[Any, str] = {
        bool: "boolean",
        int: "integer",
        str: "string",
        Path: "path",
        SecretStr: "secret",
        timedelta: "duration (`90s`, `15m`, `7d`)",
    }
    return known.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(name: str) -> str:
    low = high = None
    for rule in Settings.model_fields[name].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    if low is not None and high is not None:
        return f" {low}..{high}"
    if low is not None:
        return f" ≥ {low}"
    return f" ≤ {high}" if high is not None else ""


def _default_text(name: str) -> str:
    field = Settings.model_fields[name]
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, timedelta):
        return f"`{format_duration(value)}`"
    if isinstance(value, list):
        return f"`{','.join(map(str, value))}`" if value else "empty"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_reference() -> str:
    """``docs/configuration.md``: every setting, grouped as in :class:`Settings`."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from authgate.config.Settings; do not edit by hand.",
        f"     Regenerate: {REGENERATE} -->",
        "",
        "Every setting is an environment variable (or a line in a `.env` file in "
        "the working directory). Booleans take `true`/`false`; durations take "
        "seconds or `90s`, `15m`, `12h`, `7d`, `2w`; lists are comma-separated.",
        "",
        "This page is generated from the field descriptions in "
        "`src/authgate/config.py`; after changing a setting, regenerate it with",
        "",
        "```sh",
        REGENERATE,
        "```",
        "",
        "(`tests/unit/test_configuration_doc.py` fails until you do).",
        "",
        "Each secret (the settings below with a second name ending in `_FILE`) "
        "can instead be read from a file: `AUTHGATE_SECRET_KEY_FILE=/run/secrets/"
        "authgate_secret_key` reads the secret from that file, without its final "
        "line break, as Docker secrets and systemd credentials provide it. Setting "
        "both names, or naming a file that cannot be read or is empty, stops the "
        "server with an error naming the variable.",
    ]
    for group, names in setting_groups().items():
        lines += [
            "",
            f"## {group}",
            "",
            "| Variable | Type | Default | Description |",
            "|---|---|---|---|",
        ]
        for name in names:
            field = Settings.model_fields[name]
            kind = _type_text(field.annotation) + _bounds(name)
            variable = f"`{env_name(name)}`"
            if name in file_settings():
                variable += f" or `{env_name(name)}_FILE`"
            lines.append(
                f"| {variable} | {_cell(kind)} | {_cell(_default_text(name))}"
                f" | {_cell(field.description or '')} |"
            )
    return "\n".join(lines) + "\n"


def test_the_configuration_page_matches_the_settings_class() -> None:
    expected = settings_reference()
    actual = DOC.read_text() if DOC.exists() else ""
    if actual != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    actual.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    "docs/configuration.md",
                    "settings_reference()",
                )
            )[:60]
        )
        raise AssertionError(
            "docs/configuration.md is out of date with authgate.config.Settings. "
            f"Regenerate it from the repository root with:\n\n    {REGENERATE}"
            f"\n\n{diff}"
        )


def test_every_setting_is_described_and_in_one_group() -> None:
    for name in Settings.model_fields:
        group_of(name)  # exactly one Group in its metadata, or this raises
    assert all(setting_groups().values()), "a Group with no setting"
    undescribed = [
        name
        for name, field in Settings.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert undescribed == [], f"settings without a description: {undescribed}"


def test_the_page_names_every_setting_by_its_environment_variable() -> None:
    page = settings_reference()
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in page
    assert "`AUTHGATE_SECRET_KEY` or `AUTHGATE_SECRET_KEY_FILE`" in page
    assert "`AUTHGATE_JWT_EXPIRY` | duration" in page


if __name__ == "__main__":
    DOC.write_text(settings_reference())
