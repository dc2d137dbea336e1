"""Composing: both parts from the templates, the headers a receiver needs,
values escaped in HTML, nothing fetched from elsewhere."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from authgate.domain.mail import Message
from authgate.mail.compose import Composer, Unrenderable

AT = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
COMPOSER = Composer(
    sender="Authgate <auth@example.com>",
    site="https://auth.example.com",
    host="auth.example.com",
)


def composed(message: Message) -> EmailMessage:
    """As a receiver parses it: from the bytes that go over the wire."""
    raw = COMPOSER.compose(message, "msg_abc123", AT).as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(mail: EmailMessage) -> tuple[str, str]:
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return str(text.get_content()), str(html.get_content())


def test_headers_name_sender_recipient_date_and_a_recognisable_id() -> None:
    mail = composed(Message("ada@example.com", "test", {"note": ""}))
    assert mail["From"] == "Authgate <auth@example.com>"
    assert mail["To"] == "ada@example.com"
    assert mail["Subject"] == "Authgate test message"
    assert mail["Date"] == "Mon, 07 Dec 2026 21:00:00 +0000"
    assert mail["Message-ID"] == "<msg_abc123@auth.example.com>"
    assert mail.get_content_type() == "multipart/alternative"


def test_both_parts_say_the_same_and_look_like_the_pages() -> None:
    text, html = parts(composed(Message("ada@example.com", "test", {"note": ""})))
    assert "This is a test message from Authgate at auth.example.com." in text
    assert "This is a test message from Authgate at auth.example.com." in html
    assert "<html" not in text
    # the web pages' card and colours, inline; nothing a client would fetch
    assert "background:#f4f5f7" in html
    assert "border:1px solid #d5d9e0" in html
    assert 'href="https://auth.example.com" style="display:inline-block;' in html
    for fetched in ("<img", "<link", "src=", "url(", "@import", "<script"):
        assert fetched not in html


def test_values_are_escaped_in_html_and_kept_as_they_are_in_text() -> None:
    note = '<a href="https://evil.example">Tom & Jerry</a>'
    text, html = parts(composed(Message("ada@example.com", "test", {"note": note})))
    assert note in text
    assert note not in html
    assert (
        "&lt;a href=&#34;https://evil.example&#34;&gt;Tom &amp; Jerry&lt;/a&gt;" in html
    )


def test_a_value_cannot_replace_the_site_it_names() -> None:
    values = {"note": "", "host": "evil.example", "site": "https://evil.example"}
    text, html = parts(composed(Message("ada@example.com", "test", values)))
    assert "evil.example" not in text + html


@pytest.mark.parametrize(
    "message",
    [
        Message("ada@example.com", "no_such_template", {}),
        Message("ada@example.com", "../layout", {}),
        # a value the template needs is missing (StrictUndefined): never a
        # message with a blank where a link should be
        Message("ada@example.com", "test", {}),
        Message("ada@example.com\r\nBcc: eve@example.com", "test", {"note": ""}),
    ],
)
def test_what_cannot_be_composed_is_refused(message: Message) -> None:
    with pytest.raises(Unrenderable):
        COMPOSER.compose(message, "msg_abc123", AT)


def test_an_invite_names_who_invited_the_link_and_the_expiry() -> None:
    link = "https://auth.example.com/register?invite=ag_inv_x&proof=p"
    values = {
        "email": "bob@example.com",
        "inviter": "ada",
        "link": link,
        "expires": "2026-12-10 21:00 UTC",
    }
    mail = composed(Message("bob@example.com", "invite", values))
    assert mail["Subject"] == "ada invited you to Authgate"
    text, html = parts(mail)
    assert link in text
    assert link.replace("&", "&amp;") in html
    assert "until 2026-12-10 21:00 UTC" in text
    assert "until 2026-12-10 21:00 UTC" in html


def test_an_org_invite_links_to_registering_only_where_it_may() -> None:
    values = {
        "email": "bob@example.com",
        "inviter": "ada",
        "org": "Acme",
        "role": "member",
        "link": "https://auth.example.com/settings/orgs/accept?code=ag_inv_x",
        "register_link": "",
        "expires": "2026-12-14 21:00 UTC",
    }
    mail = composed(Message("bob@example.com", "org_invite", values))
    assert mail["Subject"] == "ada invited you to join Acme"
    text, html = parts(mail)
    assert "join the organization Acme as member" in text
    assert values["link"] in text
    assert values["link"] in html
    assert "No account yet?" not in text + html
    register = "https://auth.example.com/register?invite=ag_inv_x"
    text, html = parts(
        composed(
            Message(
                "bob@example.com", "org_invite", values | {"register_link": register}
            )
        )
    )
    assert register in text
    assert register in html
