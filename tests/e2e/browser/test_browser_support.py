"""The browser suites' own checks can fail: axe reports a page that breaks
the rules, and a screenshot is written only when asked for."""

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.support import browser as support

pytestmark = pytest.mark.browser


def test_axe_refuses_a_page_with_serious_violations(page: Page) -> None:
    page.set_content(
        '<html lang="en"><title>t</title><main><form>'
        '<input name="unlabelled"><button></button></form></main></html>'
    )
    with pytest.raises(AssertionError) as failed:
        support.check_accessibility(page)
    report = str(failed.value)
    assert "[critical] button-name" in report
    assert "label" in report


def test_axe_passes_a_page_without(page: Page) -> None:
    page.set_content(
        '<html lang="en"><title>t</title><main><form><label for="n">Name</label>'
        '<input id="n" name="n"><button>Save</button></form></main></html>'
    )
    support.check_accessibility(page)


def test_screenshots_only_when_asked(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(support, "SCREENSHOTS", tmp_path)
    page.set_content('<html lang="en"><title>t</title><main>Hi</main></html>')
    monkeypatch.delenv("AUTHGATE_SCREENSHOTS", raising=False)
    support.screenshot(page, "quiet")
    assert not (tmp_path / "quiet.png").exists()
    monkeypatch.setenv("AUTHGATE_SCREENSHOTS", "1")
    support.screenshot(page, "asked")
    assert (tmp_path / "asked.png").read_bytes().startswith(b"\x89PNG")
    assert page.viewport_size == {"width": 1280, "height": 720}  # restored
