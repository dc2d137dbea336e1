"""Mail a change sends: queued in the change's own transaction, delivered later.

A use case that must tell someone something (a verification link, a reset
link, an invite, a notice) calls :func:`queue` with the stores of the
transaction that makes the change, so the change and its message commit
together or not at all: no message for a change rolled back, and no change
whose message is lost if the process dies before sending (the transactional
outbox). The sender (``server.mail_sender``) delivers queued messages later,
with retries, one instance at a time, and records how each went.

A message is a template's name and the values it is rendered with
(``mail/templates``), not rendered text, so a queued message reads in the
current templates. Those values may hold a secret (a link's token), so they
are sealed at rest (``domain.sealing``, under a key derived for mail, the
message id as associated data) and dropped once the message is sent or given
up: the table never keeps a usable link after it is needed.

Delivery (:func:`due`, then :func:`delivered` or :func:`undelivered`) is at
least once: a round claims due rows for a while (a lease), sends them with no
transaction open, then records each outcome. A failed attempt is tried again
after :func:`backoff` (one minute, doubling to an hour) until
:data:`MAX_ATTEMPTS`; then the message is given up (``failed_at``). Sent and
given-up rows are kept :data:`RETENTION` for operators, then pruned by
``domain.housekeeping``.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from authgate.domain.sealing import Resealed, Sealer, reseal_all
from authgate.util import clock
from authgate.util.ids import new_id


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one address."""

    to: str
    #: the template's name in ``mail/templates`` (``verify_email`` renders
    #: ``verify_email.subject.txt``, ``.txt`` and ``.html``)
    template: str
    #: what the template is rendered with; may hold secrets (sealed at rest)
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Queued:
    """A message as the queue holds it."""

    id: str
    template: str  #: in the clear: what kind of message it is, for operators
    sealed: bytes | None  #: ``to`` and ``values``; ``None`` once sent or given up
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    failed_at: datetime | None = None  #: given up after the last attempt
    last_error: str | None = None  #: the last attempt's error, with no secret


#: Attempts before a message is given up: with :func:`backoff`, six hours of
#: trying (1 + 2 + … + 32 minutes, then hourly), longer than a relay's restart
#: or most network outages.
MAX_ATTEMPTS = 12
#: The wait after the first failed attempt; it doubles after each one…
FIRST_RETRY = timedelta(minutes=1)
#: …up to this.
LONGEST_RETRY = timedelta(hours=1)
#: Sent and given-up rows are kept this long (what went out, for operators).
RETENTION = timedelta(days=30)
#: The longest error text kept (the column's size).
ERROR_LENGTH = 500


class MailStore(Protocol):
    async def add(self, queued: Queued) -> None: ...

    async def sealed_values(self) -> list[tuple[str, bytes]]:
        """Every message not sent or given up yet: ``(id, sealed)``."""

    async def replace_sealed(self, message_id: str, sealed: bytes) -> None:
        """Store a queued message's content sealed anew (a secret rotation)."""

    async def pending(self, now: datetime) -> bool:
        """Whether any row is due (see :meth:`claim`): one read, so a sender
        with nothing to send takes no lock."""

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Queued]:
        """Up to ``limit`` due rows (neither sent nor given up,
        ``next_attempt_at <= now``), oldest first, whose ``next_attempt_at``
        moves to ``lease_until`` in this transaction: no other round takes
        them before then, here or on another instance."""

    async def sent(self, message_id: str, at: datetime) -> None:
        """Delivered: ``sent_at`` set, ``sealed`` dropped."""

    async def retry(
        self, message_id: str, attempts: int, next_at: datetime, error: str
    ) -> None:
        """An attempt failed; the next one is due at ``next_at``."""

    async def failed(
        self, message_id: str, attempts: int, at: datetime, error: str
    ) -> None:
        """Given up: ``failed_at`` set, ``sealed`` dropped."""

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` rows sent or given up before ``before``."""


class Tx(Protocol):
    @property
    def mail(self) -> MailStore: ...


def _context(message_id: str) -> bytes:
    return f"authgate/mail/{message_id}".encode()


async def reseal(stores: Tx, sealer: Sealer) -> Resealed:
    """Every message still queued sealed under the current server secret."""
    rows = await stores.mail.sealed_values()
    return await reseal_all(rows, sealer, _context, stores.mail.replace_sealed)


async def queue(stores: Tx, sealer: Sealer, message: Message) -> str:
    """Queue ``message`` in the caller's transaction; its id."""
    now = clock.now()
    message_id = new_id("msg")
    payload = json.dumps({"to": message.to, "values": message.values}).encode()
    await stores.mail.add(
        Queued(
            id=message_id,
            template=message.template,
            sealed=sealer.seal(payload, _context(message_id)),
            created_at=now,
            next_attempt_at=now,
        )
    )
    return message_id


def unseal(sealer: Sealer, queued: Queued) -> Message | None:
    """The message a queued row holds; ``None`` when it was sent or given up
    already, or does not open (sealed under another key)."""
    if queued.sealed is None:
        return None
    opened = sealer.open(queued.sealed, _context(queued.id))
    if opened is None:
        return None
    data = json.loads(opened)
    return Message(to=data["to"], template=queued.template, values=data["values"])


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts (1, 2, …)."""
    doubled: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(doubled, LONGEST_RETRY)


async def due(stores: Tx, limit: int, lease: timedelta) -> list[Queued]:
    """Claim the messages due now for ``lease`` (see ``MailStore.claim``)."""
    now = clock.now()
    return await stores.mail.claim(now, now + lease, limit)


async def delivered(stores: Tx, queued: Queued) -> None:
    await stores.mail.sent(queued.id, clock.now())


async def undelivered(
    stores: Tx, queued: Queued, error: str, *, permanent: bool = False
) -> datetime | None:
    """Record a failed attempt: when the next one is due, or ``None`` when the
    message is given up (the last attempt, or a ``permanent`` failure that
    trying again cannot mend: a refused address, a row that does not open).
    ``error`` must hold no secret; it is kept for operators."""
    now = clock.now()
    attempts = queued.attempts + 1
    error = error[:ERROR_LENGTH]
    if permanent or attempts >= MAX_ATTEMPTS:
        await stores.mail.failed(queued.id, attempts, now, error)
        return None
    next_at = now + backoff(attempts)
    await stores.mail.retry(queued.id, attempts, next_at, error)
    return next_at
