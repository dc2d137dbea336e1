"""Who asks, and for what, on a consent or ``/device`` page: the name a client
gives itself proves nothing, so the page also says how the server knows it,
and each scope in words a person reads."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

from authgate.domain import clients

#: What each scope lets an application do, in words a person reads.
SCOPE_TEXT = {
    "openid": "Confirm who you are",
    "profile": "See your username",
    "email": "See your email address",
    "read": "Read your data",
    "write": "Change your data",
    "admin": "Administer this Authgate server",
}
#: Scopes shown apart, as a warning: they reach beyond the person's own data.
POWERFUL_SCOPES = frozenset({"admin"})


@dataclass(frozen=True, slots=True)
class AskingClient:
    """The client as the page presents it, warning when nobody the server
    trusts vouches for it (RFC 8628 §5.4, RFC 9700 §4.14)."""

    name: str
    known_as: str
    unverified: bool
    #: Its tokens act with all the person's rights (the Authgate CLI).
    full_rights: bool = False


def asking_client(client: clients.Client) -> AskingClient:
    match client.registration:
        case "builtin":
            known_as = f"built in ({client.name})"
        case "admin":
            known_as = "created by an administrator"
        case "dynamic":
            origin = f" from {client.registered_from}" if client.registered_from else ""
            known_as = (
                f"registered dynamically{origin} on "
                f"{client.created_at.astimezone(UTC):%Y-%m-%d}"
            )
        case "metadata_document":
            host = urlsplit(client.id).netloc or client.id
            known_as = f"client ID metadata document hosted at {host}"
    return AskingClient(
        client.name,
        known_as,
        unverified=not client.verified,
        full_rights=client.id in clients.FIRST_PARTY_CLIENTS,
    )


def scope_lines(scopes: Iterable[str]) -> list[tuple[str, str, bool]]:
    """Each scope as (name, words, powerful) for a consent or ``/device`` page."""
    return [(s, SCOPE_TEXT.get(s, s), s in POWERFUL_SCOPES) for s in scopes]
