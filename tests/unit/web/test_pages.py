import pytest

from authgate.web.pages.render import origin_of, safe_next


@pytest.mark.parametrize(
    "target",
    ["/oauth/authorize?client_id=x&state=y", "/device", "/login?next=%2Fdevice"],
)
def test_same_site_paths_are_followed(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "evil.example/path",
    ],
)
def test_anything_that_could_leave_the_site_is_refused(target):
    assert safe_next(target) is None


def test_form_action_source_for_a_redirect_uri():
    assert origin_of("http://127.0.0.1:5123/callback") == "http://127.0.0.1:5123"
    assert origin_of("https://app.example.com/cb?x=1") == "https://app.example.com"
    assert origin_of("com.example.app:/cb") == "com.example.app:"
