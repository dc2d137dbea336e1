"""What ``AUTHGATE_SMTP_URL`` names: the relay, how TLS is used with it, and the
credentials, percent-decoded (``p%40ss`` is ``p@ss``). Parsed here, below
everything, so ``Settings`` can refuse a bad URL at start and ``mail.smtp``
can use the same reading (``mail.smtp`` explains the TLS rules)."""

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from authgate.util.loopback import is_loopback

#: The default port of each scheme: submission (RFC 6409) with STARTTLS, and
#: submissions, TLS from the start (RFC 8314 §7.3).
PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int
    implicit_tls: bool
    #: ``True``: STARTTLS or fail; ``None``: when offered (loopback only)
    start_tls: bool | None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> "Relay":
        """The relay an ``AUTHGATE_SMTP_URL`` names; ``ValueError`` (with no
        credential in it) when it names none."""
        parts = urlsplit(url)
        if parts.scheme not in PORTS:
            raise ValueError("must start with smtp:// (STARTTLS) or smtps:// (TLS)")
        try:
            port = parts.port or PORTS[parts.scheme]
        except ValueError:
            raise ValueError("has a port that is not one (1-65535)") from None
        if not parts.hostname:
            raise ValueError("names no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("may hold only credentials, a host and a port")
        if (parts.username is None) != (parts.password is None):
            raise ValueError("needs both a user name and a password, or neither")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=implicit,
            start_tls=False
            if implicit
            else (None if is_loopback(parts.hostname) else True),
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )
