"""The messages a live server queued, opened, and the links in them.

Delivery is the mail sender's; these read the queue (``mail_queue``) the way
it will, with the server's own mail sealer, so a test sees what would be sent.
"""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from authgate.domain import mail
from authgate.server.mailing import sealer
from authgate.storage.db import Tx
from authgate.storage.models.mail import MailRow
from tests.support.db import run
from tests.support.live import LiveServer


def messages(server: LiveServer, to: str | None = None) -> list[mail.Message]:
    """Every message queued (oldest first), opened; only those to ``to``."""
    services = server.app.state.services

    async def rows(tx: Tx) -> list[MailRow]:
        found = await tx.session.scalars(
            select(MailRow).order_by(MailRow.created_at, MailRow.id)
        )
        return list(found)

    # In a thread of its own: a test driving Playwright's sync API has an
    # event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(run, services.settings.sqlalchemy_url, rows).result()
    opened = []
    for row in found:
        message = mail.unseal(
            sealer(services),
            mail.Queued(
                id=row.id,
                template=row.template,
                sealed=row.sealed,
                created_at=row.created_at,
                next_attempt_at=row.next_attempt_at,
            ),
        )
        assert message is not None
        if to is None or message.to.lower() == to.lower():
            opened.append(message)
    return opened


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
