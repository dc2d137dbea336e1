"""Who may sign in or sign up at all: ``AUTHGATE_SIGNIN_ALLOWED_EMAILS``.

Entries are whole addresses (``alice@example.com``) or a domain after an ``@``
(``@example.com``: any address at exactly that domain, not its subdomains).
An empty list is open: anyone may. Matching ignores case, since the domain
part is case-insensitive (RFC 5321 §2.4) and, in practice, so is every
mailbox a person can be told apart by.

The rule is applied to local registration and to every upstream provider's
sign-in. An upstream address counts only when the provider says it verified
it: an unverified claim of ``alice@example.com`` proves nothing.
"""

from dataclasses import dataclass

from authgate.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class Allowlist:
    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: list[str] | tuple[str, ...]) -> "Allowlist":
        """From the setting's entries; raise ``InvalidRequest`` naming a bad one."""
        addresses: set[str] = set()
        domains: set[str] = set()
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            local, at, domain = entry.rpartition("@")
            if not at or not domain or "." not in domain or " " in entry:
                raise InvalidRequest(
                    f"{raw!r} is neither an email address nor an @domain entry."
                )
            if local:
                addresses.add(entry)
            else:
                domains.add(domain)
        return cls(frozenset(addresses), frozenset(domains))

    @property
    def open(self) -> bool:
        """No entries: everyone is allowed."""
        return not self.addresses and not self.domains

    def allows(self, email: str | None) -> bool:
        if self.open:
            return True
        if not email or "@" not in email:
            return False
        address = email.strip().lower()
        return address in self.addresses or address.rsplit("@", 1)[1] in self.domains


OPEN = Allowlist()
