"""A logging filter that masks secrets before any handler sees them: ``?api_key=``
values and anything shaped like an Authgate token."""

import logging
import re

_PATTERNS = (
    (re.compile(r"(api_key=)[^&\s\"']+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"\b([a-z][a-z0-9]{0,15}_(?:pat|key|ses|rt|rec|inv)_)[0-9A-Za-z]{49}\b"
        ),
        r"\1[REDACTED]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install(*logger_names: str) -> None:
    """Add the filter to these loggers once (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
