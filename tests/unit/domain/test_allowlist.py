"""AUTHGATE_SIGNIN_ALLOWED_EMAILS: whole addresses and @domain entries."""

import pytest

from authgate.domain.allowlist import OPEN, Allowlist
from authgate.errors import InvalidRequest


def test_empty_is_open() -> None:
    assert OPEN.open
    assert Allowlist.parse([]).open
    assert Allowlist.parse(["", "  "]).open
    assert OPEN.allows("anyone@anywhere.example")
    assert OPEN.allows(None)


def test_addresses_and_domains() -> None:
    allowed = Allowlist.parse(["Alice@Example.com", "@corp.example"])
    assert not allowed.open
    assert allowed.allows("alice@example.com")
    assert allowed.allows("ALICE@EXAMPLE.COM")
    assert allowed.allows("bob@corp.example")
    assert allowed.allows("Bob@CORP.example")


@pytest.mark.parametrize(
    "email",
    [
        "bob@example.com",  # same domain as an address entry, other mailbox
        "bob@sub.corp.example",  # a subdomain is another domain
        "bob@corp.example.evil.test",
        "corp.example@evil.test",
        "alice@example.com.evil.test",
        "",
        None,
        "no-at-sign",
    ],
)
def test_everything_else_is_refused(email: str | None) -> None:
    allowed = Allowlist.parse(["alice@example.com", "@corp.example"])
    assert not allowed.allows(email)


@pytest.mark.parametrize("entry", ["example.com", "@", "alice@", "@nodot", "a b@c.d"])
def test_malformed_entries_are_refused(entry: str) -> None:
    with pytest.raises(InvalidRequest, match="neither an email address"):
        Allowlist.parse([entry])
