"""The mail sender: delivers what ``domain.mail`` queued, in the background of
every instance (every worker), so no request ever waits for a mail server.

A round:

1. looks whether any message is due, in one read (an idle sender takes no
   lock); if so, claims the messages due now, in one short transaction, for
   :data:`LEASE`
   (``domain.mail.due``). On PostgreSQL the transaction first takes
   :data:`LOCK_KEY` without waiting: while one instance claims, the others skip
   their round, and the rows it claimed are not due again until the lease
   ends. On SQLite the write transaction holds the file's lock from its start,
   so the processes sharing the file take turns (as ``server.housekeeping``
   explains);
2. composes and sends each message with no transaction open;
3. records each outcome in its own small transaction: sent, or tried again
   later with a backoff, or given up (``domain.mail.undelivered``).

Delivery is **at least once**: a crash (or a lease running out) between the
relay's acceptance and the commit of ``sent`` sends the message again once
the lease ends. Its ``Message-ID`` (the queue's id) is the same each time, so
a receiver can tell the copies apart from two messages.

The sender wakes at once when :meth:`MailSender.wake` is called, which the
database does once a transaction that queued mail commits in this process
(``storage.db.Database.on_mail_queued``); otherwise it
looks every :data:`POLL` seconds, so what another instance or the CLI queued
goes out soon too.

Log lines name the message id, its template, a masked recipient and the
outcome: never a body or a value (a link's token), never the relay's password.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from authgate.config import Settings
from authgate.domain import mail
from authgate.domain.sealing import Sealer
from authgate.mail.compose import Composer, Unrenderable
from authgate.mail.files import FilesTransport
from authgate.mail.recipients import masked
from authgate.mail.smtp import SmtpTransport
from authgate.mail.transport import Transport, Undelivered
from authgate.storage.db import Database
from authgate.util import clock
from authgate.util.smtp_relay import Relay

log = logging.getLogger("authgate")

#: The advisory lock's key (PostgreSQL's are 64-bit integers): "agmail".
LOCK_KEY = int.from_bytes(b"agmail", "big")
#: Seconds between two looks at the queue when nothing woke the sender.
POLL = 5.0
#: Messages claimed by one round.
BATCH = 10
#: How long the messages a round claimed are its own: long enough for a whole
#: batch to meet a relay that times out at every step, after which another
#: round may send them (again).
LEASE = timedelta(minutes=15)

#: Told the template and outcome (``sent``, ``retried``, ``failed``) of each
#: recorded attempt (the metrics).
OnOutcome = Callable[[str, str], None]


def transport(settings: Settings) -> Transport:
    """SMTP when ``AUTHGATE_SMTP_URL`` is set (validated with the settings),
    else ``.eml`` files under the data dir."""
    if settings.smtp_url is None:
        return FilesTransport(settings.data_dir / "mail")
    return SmtpTransport(Relay.parse(settings.smtp_url.get_secret_value()))


def composer(settings: Settings) -> Composer:
    return Composer(
        sender=settings.mail_sender, site=settings.issuer, host=settings.public_host
    )


class MailSender:
    """The background task, started and stopped with the app."""

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        composer: Composer,
        transport: Transport,
        on_outcome: OnOutcome | None = None,
    ) -> None:
        self._db = db
        #: what queued mail is sealed under (``domain.mail.queue``)
        self.sealer = sealer
        self._composer = composer
        self._transport = transport
        self._on_outcome = on_outcome
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if isinstance(self._transport, FilesTransport):
            log.info(
                "Mail: AUTHGATE_SMTP_URL is not set; messages are written to %s",
                self._transport.directory,
            )
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Mail was queued and committed here: send it now, not at the next poll."""
        self._woken.set()

    async def _run(self) -> None:
        while True:
            self._woken.clear()
            try:
                while await self.round() == BATCH:
                    pass  # a full batch: more may be due
            except Exception:
                log.exception("mail round failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLL)

    async def round(self) -> int | None:
        """Claim, send and record one batch; how many messages it held, or
        ``None`` when another instance was claiming."""
        async with self._db.read() as tx:
            if not await tx.mail.pending(clock.now()):
                return 0
        async with self._db.transaction() as tx:
            if not await tx.exclusive(LOCK_KEY):
                return None
            claimed = await mail.due(tx, BATCH, LEASE)
        for queued in claimed:
            await self._deliver(queued)
        return len(claimed)

    async def _deliver(self, queued: mail.Queued) -> None:
        message = mail.unseal(self.sealer, queued)
        if message is None:
            await self._failed(
                queued,
                "?",
                Undelivered(
                    "the message does not open (AUTHGATE_SECRET_KEY changed?)",
                    permanent=True,
                ),
            )
            return
        to = masked(message.to)
        try:
            composed = self._composer.compose(message, queued.id, clock.now())
        except Unrenderable as exc:
            await self._failed(queued, to, Undelivered(str(exc), permanent=True))
            return
        try:
            where = await self._transport.send(composed)
        except Undelivered as exc:
            await self._failed(queued, to, exc)
            return
        async with self._db.transaction() as tx:
            await mail.delivered(tx, queued)
        self._count(queued, "sent")
        log.info(
            "mail %s (%s) to %s: sent, to %s", queued.id, queued.template, to, where
        )

    async def _failed(self, queued: mail.Queued, to: str, exc: Undelivered) -> None:
        async with self._db.transaction() as tx:
            next_at = await mail.undelivered(
                tx, queued, exc.reason, permanent=exc.permanent
            )
        if next_at is None:
            self._count(queued, "failed")
            log.error(
                "mail %s (%s) to %s: given up after %d attempts: %s",
                queued.id,
                queued.template,
                to,
                queued.attempts + 1,
                exc.reason,
            )
            return
        self._count(queued, "retried")
        log.warning(
            "mail %s (%s) to %s: not sent (%s); trying again at %s",
            queued.id,
            queued.template,
            to,
            exc.reason,
            next_at.isoformat(timespec="seconds"),
        )

    def _count(self, queued: mail.Queued, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(queued.template, outcome)
