"""With no SMTP configured (the embedded default), each message is written as
an ``.eml`` file a developer opens in a mail client or reads as text.

The files hold what the message holds, links and their tokens included, so
the directory is the owner's alone (0700, files 0600), as the data dir's
generated secret is."""

import asyncio
import os
from email.message import EmailMessage
from pathlib import Path

from authgate.mail.transport import Undelivered


class FilesTransport:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> str:
        try:
            return await asyncio.to_thread(self._write, message)
        except OSError as exc:
            raise Undelivered(f"could not write the message: {exc.strerror}") from exc

    def _write(self, message: EmailMessage) -> str:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The Message-ID's local part is the queue's id: one file per message,
        # and a message sent again (at least once) overwrites its own file.
        name = str(message["Message-ID"]).strip("<>").partition("@")[0]
        path = self.directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())
        partial.replace(path)
        return str(path)
