"""docs/configuration.md is generated from ``authgate.config.Settings`` and must
stay in step with it: a setting added, renamed, re-described or given a new
default fails this test until the page is regenerated."""

import difflib
from pathlib import Path

from authgate.config import (
    REFERENCE_COMMAND,
    Settings,
    env_name,
    setting_groups,
    settings_reference,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_page_matches_the_settings_class():
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
            f"Regenerate it from the repository root with:\n\n    {REFERENCE_COMMAND}"
            f"\n\n{diff}"
        )


def test_every_setting_is_described_and_grouped():
    grouped = [name for names in setting_groups().values() for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields)
    undescribed = [
        name
        for name, field in Settings.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert undescribed == [], f"settings without a description: {undescribed}"


def test_the_page_names_every_setting_by_its_environment_variable():
    page = settings_reference()
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in page
    assert "`AUTHGATE_SECRET_KEY`" in page
    assert "`AUTHGATE_JWT_EXPIRY` | duration" in page
