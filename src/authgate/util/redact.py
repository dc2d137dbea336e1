"""A logging filter that masks secrets: ``?api_key=`` values, the ``proof`` of
a mailed invite link (``domain.invite_mail``), and anything shaped like an
Authgate token. The server puts it on its one log handler
(``server/logs.py``), which every logger's lines reach."""

import logging
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

_PATTERNS = (
    (re.compile(r"(api_key=)[^&\s\"']+"), r"\1[REDACTED]"),
    (re.compile(r"([?&]proof=)[^&\s\"']+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"\b([a-z][a-z0-9]{0,15}_(?:pat|key|ses|rt|rec|inv|evt)_)[0-9A-Za-z]{49}\b"
        ),
        r"\1[REDACTED]",
    ),
)


#: A query parameter whose name has percent-escapes: the guard reads
#: ``api%5Fkey=`` as ``api_key=`` (``parse_qsl`` decodes names), so must we.
_ENCODED_PARAM = re.compile(
    r"([?&])([^=&\s\"'?#]*%[0-9A-Fa-f]{2}[^=&\s\"'?#]*)=[^&\s\"'#]+"
)


def _encoded_api_key(match: re.Match[str]) -> str:
    if unquote_plus(match[2]) != "api_key":
        return match[0]
    return f"{match[1]}{match[2]}=[REDACTED]"


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if "%" in text:
        text = _ENCODED_PARAM.sub(_encoded_api_key, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks the record in place. String arguments are redacted one by one, so
    the record keeps its shape for formatters that read ``record.args``
    (uvicorn's access log unpacks them: collapsing them would break every line
    that carries a secret). Only a secret that survives in some other argument
    collapses the record to its redacted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.args, Mapping):
            record.args = {
                k: redact(v) if isinstance(v, str) else v
                for k, v in record.args.items()
            }
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
