import pytest

from authgate.domain.clients import CLI_CLIENT
from authgate.web.authorization_server.asking import asking_client, scope_lines
from authgate.web.paths import safe_next
from authgate.web.render import origin_of, page


@pytest.mark.parametrize(
    "target",
    ["/oauth/authorize?client_id=x&state=y", "/device", "/login?next=%2Fdevice"],
)
def test_same_site_paths_are_followed(target: str) -> None:
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
def test_anything_that_could_leave_the_site_is_refused(target: str | None) -> None:
    assert safe_next(target) is None


def test_form_action_source_for_a_redirect_uri() -> None:
    assert origin_of("http://127.0.0.1:5123/callback") == "http://127.0.0.1:5123"
    assert origin_of("https://app.example.com/cb?x=1") == "https://app.example.com"
    assert origin_of("com.example.app:/cb") == "com.example.app:"


def consent_page(scopes: list[str]) -> str:
    return bytes(
        page(
            "oauth/consent.html",
            client=asking_client(CLI_CLIENT),
            username="alice",
            scopes=scope_lines(scopes),
            resources=[],
            redirect_uri="http://127.0.0.1:5123/callback",
            action="/oauth/authorize",
            csrf_token="t",
            fields=[],
        ).body
    ).decode()


def test_the_admin_scope_is_shown_apart_in_plain_words() -> None:
    """Keyed on the scope's name: whatever grants it, the page says it."""
    html = consent_page(["openid", "admin"])
    assert 'class="notice powerful"><strong>Administer this Authgate server' in html
    assert "<li><strong>Administer" not in html
    assert "Administer" not in consent_page(["openid", "read"])
