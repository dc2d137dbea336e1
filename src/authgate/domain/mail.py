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
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from authgate.domain.sealing import Sealer
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


class MailStore(Protocol):
    async def add(self, queued: Queued) -> None: ...


class Tx(Protocol):
    @property
    def mail(self) -> MailStore: ...


def _context(message_id: str) -> bytes:
    return f"authgate/mail/{message_id}".encode()


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
