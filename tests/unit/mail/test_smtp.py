"""The SMTP transport against a real server (aiosmtpd on loopback)."""

import pytest

from authgate.domain.mail import Message
from authgate.mail.smtp import SmtpTransport
from authgate.mail.transport import Undelivered
from authgate.util.smtp_relay import Relay
from tests.support.smtp import free_port, smtp_server
from tests.unit.mail.test_compose import AT, COMPOSER

pytestmark = pytest.mark.anyio

MESSAGE = COMPOSER.compose(
    Message("ada@example.com", "test", {"note": "over SMTP"}), "msg_abc123", AT
)


def transport(port: int) -> SmtpTransport:
    return SmtpTransport(Relay.parse(f"smtp://127.0.0.1:{port}"), timeout=5)


async def test_a_message_is_delivered_as_composed() -> None:
    with smtp_server() as (inbox, port):
        where = await transport(port).send(MESSAGE)
    assert where == f"127.0.0.1:{port}"
    [received] = inbox.messages
    assert received["Message-ID"] == "<msg_abc123@auth.example.com>"
    assert received["To"] == "ada@example.com"
    text = received.get_body(("plain",))
    assert text is not None
    assert "Note: over SMTP" in str(text.get_content())


async def test_a_relay_that_is_down_is_tried_again_later() -> None:
    with pytest.raises(Undelivered) as failed:
        await transport(free_port()).send(MESSAGE)
    assert not failed.value.permanent
    assert "127.0.0.1" in failed.value.reason


async def test_a_refused_recipient_is_given_up_and_not_named_in_full() -> None:
    with smtp_server() as (inbox, port):
        inbox.refused.add("ada@example.com")
        with pytest.raises(Undelivered) as failed:
            await transport(port).send(MESSAGE)
    assert failed.value.permanent
    assert failed.value.reason.startswith("SMTP 550")
    assert "ada@example.com" not in failed.value.reason
    assert inbox.messages == []


async def test_starttls_is_required_off_loopback() -> None:
    """A relay not on loopback that offers no STARTTLS gets nothing: here a
    loopback server reached by a name that is not a loopback name."""
    with smtp_server() as (inbox, port):
        relay = Relay.parse(f"smtp://127.0.0.1:{port}")
        forced = SmtpTransport(
            Relay(relay.host, relay.port, implicit_tls=False, start_tls=True),
            timeout=5,
        )
        with pytest.raises(Undelivered) as failed:
            await forced.send(MESSAGE)
    assert not failed.value.permanent
    assert inbox.messages == []
