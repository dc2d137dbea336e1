"""``authgate.server.logs`` and ``authgate.server.request_id``: one handler that
every logger's lines reach, masked and stamped with the request's id, and the
id itself: a caller's when acceptable, echoed in ``X-Request-ID``."""

import asyncio
import io
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from authgate.config import Settings
from authgate.server import logs, request_id
from authgate.server.request_id import RequestIdMiddleware
from authgate.util import tokens

PARENT = "authgate.tests.logs"
CHILD = f"{PARENT}.deep.child"
GENERATED = re.compile(r"[0-9a-f]{32}")


def capture(log_format: str) -> Iterator[io.StringIO]:
    """What the handler writes for ``PARENT`` and its children; nothing is
    filtered on a logger."""
    stream = io.StringIO()
    handler = logs.handler(log_format, stream)
    parent = logging.getLogger(PARENT)
    parent.addHandler(handler)
    parent.setLevel(logging.DEBUG)
    parent.propagate = False
    try:
        yield stream
    finally:
        parent.removeHandler(handler)
        parent.propagate = True


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    yield from capture("text")


@pytest.fixture
def written_json() -> Iterator[io.StringIO]:
    yield from capture("json")


def call(app: Any, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """One GET through ``app``: the messages it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent


async def logging_app(_scope: Any, _receive: Any, send: Any) -> None:
    """Logs from a child logger, then answers."""
    logging.getLogger(CHILD).info("handled")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def answered_id(sent: list[dict[str, Any]]) -> str:
    start = sent[0]
    assert start["type"] == "http.response.start"
    ids = [v for k, v in start["headers"] if k == b"x-request-id"]
    assert len(ids) == 1
    return bytes(ids[0]).decode()


def test_json_lines_parse_and_carry_the_request_id(
    written_json: io.StringIO,
) -> None:
    app = RequestIdMiddleware(logging_app)
    mine = answered_id(call(app, [(b"x-request-id", b"trace-0af7651916cd43dd")]))
    theirs = answered_id(call(app, []))
    logging.getLogger(CHILD).warning("between requests")
    lines = [json.loads(line) for line in written_json.getvalue().splitlines()]
    assert [(line["request_id"], line["message"]) for line in lines] == [
        (mine, "handled"),
        (theirs, "handled"),
        (request_id.NONE, "between requests"),
    ]
    assert mine == "trace-0af7651916cd43dd"
    assert GENERATED.fullmatch(theirs)
    for line in lines:
        assert line["logger"] == CHILD
        assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None
    assert [line["level"] for line in lines] == ["INFO", "INFO", "WARNING"]


def test_text_lines_have_a_utc_timestamp_and_the_request_id(
    written: io.StringIO,
) -> None:
    sent = call(RequestIdMiddleware(logging_app), [(b"x-request-id", b"abc-123")])
    assert answered_id(sent) == "abc-123"
    line = written.getvalue().strip()
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z INFO {CHILD} \[abc-123\] handled",
        line,
    ), line


@pytest.mark.parametrize(
    "given",
    [
        b"",
        b"x" * 129,
        b"two words",
        b'quote"d',
        b"line\nfeed",
        b"caf\xc3\xa9",
        b"{injected}",
    ],
)
def test_an_unacceptable_id_is_replaced_never_echoed(
    written: io.StringIO, given: bytes
) -> None:
    sent = call(RequestIdMiddleware(logging_app), [(b"x-request-id", given)])
    made = answered_id(sent)
    assert GENERATED.fullmatch(made)
    assert f"[{made}] handled" in written.getvalue()


def test_the_longest_accepted_id_is_kept() -> None:
    longest = b"a" * 128
    assert request_id.choose([(b"x-request-id", longest)]) == longest.decode()


def test_each_request_gets_its_own_id() -> None:
    app = RequestIdMiddleware(logging_app)
    made = {answered_id(call(app, [])) for _ in range(20)}
    assert len(made) == 20


def test_a_token_in_a_child_loggers_line_is_masked(written: io.StringIO) -> None:
    """The filter sits on the handler: a logger it was never put on (a child,
    a library) is masked all the same, traceback included."""
    secret = tokens.mint("ag", "pat")
    child = logging.getLogger(CHILD)
    assert child.filters == []
    child.info("presented %s", secret)
    child.info(f"GET /api/v1/me?api_key={secret}")
    try:
        raise ValueError(f"bad token {secret}")
    except ValueError:
        child.exception("failed")
    text = written.getvalue()
    assert secret not in text
    assert secret[len("ag_pat_") :] not in text
    assert "presented ag_pat_[REDACTED]" in text
    assert "api_key=[REDACTED]" in text
    assert "ValueError: bad token ag_pat_[REDACTED]" in text


def test_a_token_in_a_json_traceback_is_masked(written_json: io.StringIO) -> None:
    secret = tokens.mint("ag", "rt")
    try:
        raise ValueError(secret)
    except ValueError:
        logging.getLogger(CHILD).exception("failed")
    line = json.loads(written_json.getvalue())
    assert secret not in written_json.getvalue()
    assert "ValueError: ag_rt_[REDACTED]" in line["exc_info"]


@pytest.mark.parametrize("level", ["debug", "Warning", " ERROR "])
def test_a_level_is_read_in_any_case(level: str) -> None:
    assert Settings(_env_file=None, log_level=level).log_level == level.strip().upper()


@pytest.mark.parametrize("level", ["loud", "", "10", "WARN", "TRACE"])
def test_a_bad_level_is_refused(level: str) -> None:
    with pytest.raises(ValidationError, match="log_level"):
        Settings(_env_file=None, log_level=level)


def test_a_bad_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="log_format"):
        Settings(_env_file=None, log_format="xml")


def test_uvicorn_and_authgate_share_the_one_handler() -> None:
    """uvicorn's loggers keep no handler or format of their own: their lines
    reach the root's, where the id and the masking are."""
    config = logs.configuration(Settings(_env_file=None, log_level="warning"))
    assert config["root"] == {"level": "WARNING", "handlers": ["stderr"]}
    assert config["handlers"]["stderr"]["()"] == "authgate.server.logs.handler"
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name] == {
            "handlers": [],
            "propagate": True,
            "level": "WARNING",
        }
    assert config["disable_existing_loggers"] is False


def test_a_forked_process_makes_ids_of_its_own() -> None:
    """New ids share a per-process prefix; a child forked from this process
    (as a server that forks its workers does) must not repeat its parent's."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns of fork() in a threaded process; the child only
        # writes to a pipe and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.write(write, request_id.choose([]).encode())
        os._exit(0)
    os.close(write)
    try:
        theirs = os.read(read, 64).decode()
    finally:
        os.close(read)
        os.waitpid(child, 0)
    mine = request_id.choose([])
    assert GENERATED.fullmatch(theirs)
    assert theirs[:16] != mine[:16]
