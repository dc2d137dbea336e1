"""Sending through an SMTP relay (aiosmtplib), configured by one URL,
``AUTHGATE_SMTP_URL``:

- ``smtps://user:pass@host[:465]``: implicit TLS from the first byte (RFC 8314
  §3.3, the ``submissions`` service), which RFC 8314 asks clients to prefer.
- ``smtp://user:pass@host[:587]``: STARTTLS (RFC 3207), *required*: a relay
  that does not offer it is refused rather than sent the password and the
  message in clear, since a network attacker can strip the offer from the
  greeting. With TLS required either way, RFC 8314 §3.3 notes there is no
  significant difference between the two. The one exception is a relay on
  loopback (a local Postfix, Mailpit in development), which never leaves the
  machine: STARTTLS is used there when offered.

The URL is read by ``util.smtp_relay`` (``Settings`` checks it at start). The
certificate is always validated (RFC 8314 §5.3: a session whose certificate
cannot be validated does not count as confidential). The password appears in
no error, log line or ``repr``.
"""

import re
from email.message import EmailMessage

import aiosmtplib

from authgate.mail.recipients import masked
from authgate.mail.transport import Undelivered
from authgate.util.smtp_relay import Relay

#: Seconds any one step (connect, a command, the data) may take: a relay that
#: hangs delays the round, never a request.
TIMEOUT = 30.0
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")


class SmtpTransport:
    def __init__(self, relay: Relay, *, timeout: float = TIMEOUT) -> None:
        self.relay = relay
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> str:
        relay = self.relay
        try:
            await aiosmtplib.send(
                message,
                hostname=relay.host,
                port=relay.port,
                username=relay.username,
                password=relay.password,
                use_tls=relay.implicit_tls,
                start_tls=relay.start_tls,
                validate_certs=True,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({refused.code for refused in exc.recipients})
            raise Undelivered(
                f"SMTP {', '.join(map(str, codes))}: the relay refused the recipient",
                permanent=all(500 <= code < 600 for code in codes),
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The operator's settings, not the message: kept for a retry once
            # they are fixed.
            raise Undelivered(f"SMTP {exc.code}: the relay refused the login") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise Undelivered(
                f"SMTP {exc.code}: {_clean(exc.message)}",
                permanent=isinstance(exc, aiosmtplib.SMTPDataError)
                and 500 <= exc.code < 600,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Undelivered(
                f"{relay.host}:{relay.port}: {type(exc).__name__}: {_clean(str(exc))}"
            ) from None
        return f"{relay.host}:{relay.port}"


def _clean(text: str) -> str:
    """One line of a relay's reply, any address in it masked (a relay may echo
    the recipient; the reason is logged)."""
    line = " ".join(text.split())
    return _ADDRESS.sub(lambda match: masked(match[0]), line)[:200]
