"""``AUTHGATE_SMTP_URL``: TLS from the start or STARTTLS required (off
loopback), default ports, percent-decoded credentials never shown."""

import pytest

from authgate.util.smtp_relay import Relay


def test_smtps_is_tls_from_the_start_on_465() -> None:
    relay = Relay.parse("smtps://mailer:s3cret@smtp.example.com")
    assert (relay.host, relay.port, relay.implicit_tls, relay.start_tls) == (
        "smtp.example.com",
        465,
        True,
        False,
    )


def test_smtp_requires_starttls_on_587_off_loopback() -> None:
    relay = Relay.parse("smtp://smtp.example.com")
    assert (relay.port, relay.implicit_tls, relay.start_tls) == (587, False, True)
    assert (relay.username, relay.password) == (None, None)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_on_loopback_starttls_is_used_when_offered(host: str) -> None:
    relay = Relay.parse(f"smtp://{host}:2525")
    assert (relay.port, relay.start_tls) == (2525, None)


def test_credentials_are_percent_decoded_and_the_password_never_shown() -> None:
    relay = Relay.parse("smtp://me%40example.com:p%40ss%3Aw0rd@smtp.example.com")
    assert (relay.username, relay.password) == ("me@example.com", "p@ss:w0rd")
    assert "p@ss" not in repr(relay)
