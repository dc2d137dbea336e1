"""The messages a live server queued, and the links in them.

Live servers run in the test process, so :func:`recording` (on for the whole
session, ``tests/conftest.py``) keeps every message ``domain.mail.queue`` is
given, by its queue id; a server's messages are those whose row its database
holds, so a message whose change rolled back is not among them. That holds
whether or not the mail sender has delivered a message meanwhile (delivery
drops the sealed content, not the row).
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from authgate.domain import mail
from authgate.domain.sealing import Sealer
from authgate.storage.db import Tx
from authgate.storage.models.mail import MailRow
from tests.support.db import run
from tests.support.live import LiveServer

#: every message queued in this process, by queue id, in order
_QUEUED: dict[str, mail.Message] = {}


@contextmanager
def recording() -> Iterator[None]:
    """Keep every message queued meanwhile (see the module docstring)."""
    original = mail.queue

    async def queue(stores: mail.Tx, sealer: Sealer, message: mail.Message) -> str:
        message_id = await original(stores, sealer, message)
        _QUEUED[message_id] = message
        return message_id

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mail, "queue", queue)
        yield


def queued_ids(url: str) -> list[str]:
    """The ids of the rows in the mail queue of the database at ``url``."""

    async def ids(tx: Tx) -> list[str]:
        return list(await tx.session.scalars(select(MailRow.id)))

    # In a thread of its own: a test driving Playwright's sync API has an
    # event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run, url, ids).result()


def messages(server: LiveServer, to: str | None = None) -> list[mail.Message]:
    """The messages the server queued (oldest first); only those to ``to``."""
    held = set(queued_ids(server.app.state.services.settings.sqlalchemy_url))
    return [
        message
        for message_id, message in _QUEUED.items()
        if message_id in held and (to is None or message.to.lower() == to.lower())
    ]


def last(server: LiveServer, to: str, template: str) -> mail.Message:
    found = [m for m in messages(server, to) if m.template == template]
    assert found, f"no {template} message to {to}"
    return found[-1]


def link_token(message: mail.Message) -> str:
    """The ``token`` of the message's link."""
    [token] = parse_qs(urlsplit(message.values["link"]).query)["token"]
    return token


def verify(server: LiveServer, http: httpx.Client, email: str) -> None:
    """Follow the last verification link mailed to ``email`` (through the API)."""
    token = link_token(last(server, email, "verify_email"))
    response = http.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200, response.text
