"""The log filter that keeps secrets out of every log line."""

import logging

import pytest
from uvicorn.logging import AccessFormatter

from authgate.util import redact, tokens

KINDS = ("pat", "key", "ses", "rt", "rec", "inv", "evt")


@pytest.mark.parametrize("kind", KINDS)
def test_every_minted_secret_is_masked(kind: str) -> None:
    secret = tokens.mint("ag", kind)
    cleaned = redact.redact(f"got token {secret} from client")
    assert secret not in cleaned
    assert secret[len(f"ag_{kind}_") :] not in cleaned
    assert cleaned == f"got token ag_{kind}_[REDACTED] from client"


def test_a_percent_encoded_secret_is_masked() -> None:
    secret = tokens.mint("ag", "key")
    encoded = secret.replace("_", "%5F")
    cleaned = redact.redact(f"GET /api/v1/me?api%5Fkey={encoded} HTTP/1.1")
    assert secret[len("ag_key_") :] not in cleaned
    assert cleaned == "GET /api/v1/me?api%5Fkey=[REDACTED] HTTP/1.1"


def test_a_custom_prefix_is_masked_too() -> None:
    secret = tokens.mint("vai", "pat")
    assert redact.redact(f"Bearer {secret}") == "Bearer vai_pat_[REDACTED]"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/me?api_key=hunter2", "/me?api_key=[REDACTED]"),
        ("/me?a=1&api_key=hunter2&b=2", "/me?a=1&api_key=[REDACTED]&b=2"),
        (
            '"GET /x?api_key=abc HTTP/1.1" 200',
            '"GET /x?api_key=[REDACTED] HTTP/1.1" 200',
        ),
        ("/x?api_key=s3cr%2Ft&api_key=two", "/x?api_key=[REDACTED]&api_key=[REDACTED]"),
        # A mailed invite link's proof (its code is token-shaped).
        ("/register?invite=x&proof=AbC-_1", "/register?invite=x&proof=[REDACTED]"),
        # Percent-encoded names are what the guard reads too (parse_qsl decodes).
        ("/x?api%5Fkey=hunter2", "/x?api%5Fkey=[REDACTED]"),
        ("/x?a=1&%61pi%5fkey=hunter2&b=2", "/x?a=1&%61pi%5fkey=[REDACTED]&b=2"),
    ],
)
def test_query_api_key_values_are_masked(line: str, expected: str) -> None:
    assert redact.redact(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/v1/me HTTP/1.1 200",
        "user ag_pat_ListedPrefix created a token",  # a display prefix is no secret
        "api_key",
        "/docs?page=2",
        "/docs?p%61ge=2&api%5Fkeys=3",
    ],
)
def test_ordinary_text_is_left_alone(line: str) -> None:
    assert redact.redact(line) == line


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, msg, args, None
    )


def test_the_filter_masks_arguments_and_keeps_the_record_shape() -> None:
    secret = tokens.mint("ag", "key")
    entry = record(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        f"/api/v1/me?api_key={secret}",
        "1.1",
        200,
    )
    assert redact.RedactingFilter().filter(entry) is True
    assert isinstance(entry.args, tuple)
    assert len(entry.args) == 5  # uvicorn's AccessFormatter unpacks exactly five
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    formatted = line.format(entry)
    assert secret not in formatted
    assert (
        formatted
        == '127.0.0.1:5000 - "GET /api/v1/me?api_key=[REDACTED] HTTP/1.1" 200 OK'
    )


def test_the_filter_masks_the_message_and_mapping_arguments() -> None:
    secret = tokens.mint("ag", "pat")
    plain = record(f"token {secret}")
    redact.RedactingFilter().filter(plain)
    assert plain.getMessage() == "token ag_pat_[REDACTED]"

    named = logging.LogRecord(
        "authgate",
        logging.INFO,
        __file__,
        1,
        "got %(token)s",
        ({"token": secret},),
        None,
    )
    redact.RedactingFilter().filter(named)
    assert named.getMessage() == "got ag_pat_[REDACTED]"


def test_a_secret_inside_another_argument_collapses_the_record() -> None:
    secret = tokens.mint("ag", "rt")

    class Holder:
        def __str__(self) -> str:
            return f"holder of {secret}"

    entry = record("saw %s", Holder())
    redact.RedactingFilter().filter(entry)
    assert entry.getMessage() == "saw holder of ag_rt_[REDACTED]"
    assert secret not in entry.getMessage()


def test_records_without_secrets_are_untouched() -> None:
    entry = record("%s requests", 3)
    redact.RedactingFilter().filter(entry)
    assert entry.msg == "%s requests"
    assert entry.args == (3,)
