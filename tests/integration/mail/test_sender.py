"""The sender in a live server, against a real SMTP server on loopback: each
message arrives once, through a relay that was down, across a restart, and
with two instances on one database; without SMTP it is a file; it is given up
after the last attempt; no log line holds a secret."""

import logging
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from authgate.domain import mail
from authgate.server import mail_sender
from authgate.server.mail_sender import LEASE
from authgate.storage.db import Tx
from authgate.util import clock
from tests.support import db
from tests.support.live import LiveServer
from tests.support.smtp import eventually, free_port, smtp_server

StartServer = Callable[..., LiveServer]
Row = dict[str, Any]

FROM = "Authgate <auth@example.com>"


def relay(port: int) -> dict[str, str]:
    return {"smtp_url": f"smtp://127.0.0.1:{port}", "mail_from": FROM}


def queue(server: LiveServer, *recipients: str, note: str = "") -> list[str]:
    """Queue one test message per recipient in one transaction, as a change
    does, then wake the server's sender as the change's caller would."""
    services = server.app.state.services

    async def use(tx: Tx) -> list[str]:
        return [
            await mail.queue(
                tx, services.mail.sealer, mail.Message(to, "test", {"note": note})
            )
            for to in recipients
        ]

    ids = db.run(services.db.url, use)
    wake(server)
    return ids


def wake(server: LiveServer) -> None:
    server.loop.call_soon_threadsafe(server.app.state.services.mail.wake)


def rows(url: str) -> dict[str, Row]:
    return {row["id"]: row for row in db.dump(url)["mail_queue"]}


def row_when(url: str, message_id: str, check: Callable[[Row], bool]) -> Row:
    """The message's row, once ``check`` holds of it."""

    def found() -> Row | None:
        row = rows(url)[message_id]
        return row if check(row) else None

    row: Row = eventually(found)
    return row


def sent(url: str, message_id: str) -> Row:
    return row_when(url, message_id, lambda r: r["sent_at"] is not None)


def tried(times: int) -> Callable[[Row], bool]:
    return lambda row: bool(row["attempts"] == times)


def advance(by: timedelta) -> None:
    clock.advance(by.total_seconds())


def test_a_queued_message_is_delivered_once(
    start_server: StartServer, database_url: str
) -> None:
    with smtp_server() as (inbox, port):
        server = start_server(**relay(port))
        [first] = queue(server, "ada@example.com")
        row = sent(database_url, first)
        assert (row["attempts"], row["sealed"], row["last_error"]) == (0, None, None)
        # Long past its lease: a later round sends the next message, not it again.
        advance(LEASE * 2)
        [second] = queue(server, "bob@example.com")
        sent(database_url, second)
    assert inbox.ids() == [f"<{first}@127.0.0.1>", f"<{second}@127.0.0.1>"]
    [received, _] = inbox.messages
    assert (received["From"], received["To"]) == (FROM, "ada@example.com")


def test_a_relay_that_was_down_gets_the_message_once_it_is_back(
    start_server: StartServer, database_url: str
) -> None:
    port = free_port()
    server = start_server(**relay(port))
    before = clock.now()
    [message_id] = queue(server, "ada@example.com")
    row = row_when(database_url, message_id, tried(1))
    assert row["sent_at"] is None
    assert row["sealed"] is not None
    assert f"127.0.0.1:{port}" in row["last_error"]
    # backoff: the next attempt a minute later (reflected, SQLite's are naive)
    next_at = row["next_attempt_at"].replace(tzinfo=UTC)
    assert before + mail.FIRST_RETRY <= next_at <= clock.now() + mail.FIRST_RETRY
    with smtp_server(port) as (inbox, _):
        advance(mail.FIRST_RETRY + timedelta(seconds=1))
        wake(server)
        row = sent(database_url, message_id)
        assert row["attempts"] == 1
        advance(LEASE * 2)
        [later] = queue(server, "bob@example.com")
        sent(database_url, later)
    assert inbox.ids() == [f"<{message_id}@127.0.0.1>", f"<{later}@127.0.0.1>"]


def test_the_queue_survives_a_restart(
    start_server: StartServer, database_url: str
) -> None:
    port = free_port()
    first = start_server(**relay(port))
    [message_id] = queue(first, "ada@example.com")
    row_when(database_url, message_id, tried(1))
    first.stop()
    with smtp_server(port) as (inbox, _):
        advance(mail.FIRST_RETRY + timedelta(seconds=1))
        start_server(**relay(port))  # its first round runs at start
        sent(database_url, message_id)
    assert inbox.ids() == [f"<{message_id}@127.0.0.1>"]


def test_without_smtp_each_message_is_a_file_whose_path_is_logged(
    start_server: StartServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="authgate")
    secret = "ag_rst_7Hq2kP9xVbN4mZ8cW1eR5tY3uI6oL0aS"
    server = start_server()
    [message_id] = queue(server, "ada@example.com", note=f"/reset?token={secret}")
    sent(database_url, message_id)
    path = Path(server.app.state.services.settings.data_dir) / "mail"
    eml = path / f"{message_id}.eml"
    assert secret in eml.read_text()
    logged = [record.getMessage() for record in caplog.records]
    assert any(str(eml) in line and message_id in line for line in logged)
    assert any("a***@example.com" in line for line in logged)
    for line in logged:
        assert secret not in line
        assert "ada@example.com" not in line


def test_a_message_is_given_up_after_the_last_attempt(
    start_server: StartServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_server(**relay(free_port()))
    [message_id] = queue(server, "ada@example.com")
    for attempt in range(1, mail.MAX_ATTEMPTS):
        row_when(database_url, message_id, tried(attempt))
        advance(mail.LONGEST_RETRY + timedelta(seconds=1))
        wake(server)
    row = row_when(database_url, message_id, lambda r: r["failed_at"] is not None)
    assert (row["attempts"], row["sealed"], row["sent_at"]) == (
        mail.MAX_ATTEMPTS,
        None,
        None,
    )
    counted = server.app.state.services.metrics.mail.values
    assert counted[("test", "retried")] == mail.MAX_ATTEMPTS - 1
    assert counted[("test", "failed")] == 1
    assert any("given up" in r.getMessage() for r in caplog.records)
    # never tried again
    advance(timedelta(days=1))
    [later] = queue(server, "bob@example.com")
    row_when(database_url, later, tried(1))
    assert rows(database_url)[message_id]["attempts"] == mail.MAX_ATTEMPTS


def test_an_address_the_relay_refuses_for_good_is_given_up_at_once(
    start_server: StartServer, database_url: str
) -> None:
    with smtp_server() as (inbox, port):
        inbox.refused.add("nobody@example.com")
        server = start_server(**relay(port))
        [refused, fine] = queue(server, "nobody@example.com", "ada@example.com")
        row = row_when(database_url, refused, lambda r: r["failed_at"] is not None)
        sent(database_url, fine)
    assert row["attempts"] == 1
    assert row["last_error"].startswith("SMTP 550")
    assert inbox.ids() == [f"<{fine}@127.0.0.1>"]


def test_two_instances_on_one_database_send_each_message_once(
    start_server: StartServer, database_url: str
) -> None:
    with smtp_server() as (inbox, port):
        first = start_server(**relay(port))
        second = start_server(**relay(port))
        ids = queue(first, *(f"user{n}@example.com" for n in range(25)))
        wake(second)
        for message_id in ids:
            sent(database_url, message_id)
        # one more round on each, after everything was recorded
        advance(LEASE * 2)
        [last] = queue(second, "last@example.com")
        wake(first)
        sent(database_url, last)
    received = inbox.ids()
    assert sorted(received) == sorted(f"<{i}@127.0.0.1>" for i in [*ids, last])


def test_a_change_that_queued_mail_wakes_the_sender_once_it_commits(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No poll in this test's lifetime: only the commit's wake-up can send.
    monkeypatch.setattr(mail_sender, "POLL", 3600.0)
    with smtp_server() as (inbox, port):
        server = start_server(allow_registration=True, **relay(port))
        with server.client() as http:
            # Registering with an address queues its verification link.
            registered = http.post(
                "/api/v1/auth/register",
                json={
                    "username": "ada",
                    "password": "correct horse battery staple 9",
                    "email": "ada@example.com",
                },
            )
            assert registered.status_code == 201, registered.text
        eventually(lambda: inbox.messages or None)
    [received] = inbox.messages
    assert received["To"] == "ada@example.com"
