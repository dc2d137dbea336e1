"""Where a composed message goes: one Protocol, one module per way
(``smtp.py``, ``files.py``)."""

from email.message import EmailMessage
from typing import Protocol


class Undelivered(Exception):
    """A transport could not hand the message over. ``reason`` holds no secret
    (it is logged and kept in the queue); ``permanent`` when trying again
    cannot help (the relay refused the address or the message for good)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> str:
        """Hand ``message`` over, or raise :class:`Undelivered`; where it went,
        for the log (the relay, the file)."""
        ...
