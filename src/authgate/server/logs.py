"""One logging configuration for the whole server process: Authgate's loggers,
uvicorn's (``uvicorn.error``, and ``uvicorn.access`` for each request) and any
library's all end in one handler on standard error.

That handler, not each logger, carries what every line needs, so a child
logger (``authgate.storage.sqlite``) or a library cannot escape it: the request
id (:mod:`authgate.server.request_id`) and the redaction of secrets
(:mod:`authgate.util.redact`; tracebacks are masked as well). Lines are text
with a UTC timestamp, or one JSON object each (``AUTHGATE_LOG_FORMAT=json``,
through python-json-logger).

``authgate serve`` applies :func:`configuration` itself (``dictConfig``) and
hands it to uvicorn, which applies it again in each worker it starts.
"""

import logging
import time
from typing import IO, TYPE_CHECKING, Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from authgate.server import request_id
from authgate.util.redact import RedactingFilter, redact

if TYPE_CHECKING:
    from authgate.config import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
#: The JSON object's keys, in order (``timestamp`` is added, in ISO 8601 UTC).
JSON_FIELDS = ("levelname", "name", "request_id", "message")
JSON_NAMES = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current.get()
        return True


class TextFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO authgate [<request id>] message``."""

    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__(TEXT)
        self.converter = time.gmtime

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


class JsonFormatter(_JsonFormatter):
    """One JSON object per line; extra attributes of a record become keys."""

    def __init__(self) -> None:
        super().__init__(
            list(JSON_FIELDS),
            rename_fields=JSON_NAMES,
            timestamp=True,
            # uvicorn's copy of a message with terminal colours in it
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def formatException(self, ei: Any) -> str:
        return redact(str(super().formatException(ei)))


def handler(log_format: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """The one handler: every line's format, request id and redaction."""
    made = logging.StreamHandler(stream)  # None: standard error
    made.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    made.addFilter(RequestIdFilter())
    made.addFilter(RedactingFilter())
    return made


def configuration(settings: "Settings") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dictionary for these settings (made
    of names and strings only: uvicorn sends it to the workers it spawns)."""
    uvicorn = {"handlers": [], "propagate": True, "level": settings.log_level}
    return {
        "version": 1,
        # Loggers made at import (logging.getLogger in a module) stay on.
        "disable_existing_loggers": False,
        "handlers": {
            "stderr": {"()": f"{__name__}.handler", "log_format": settings.log_format}
        },
        "root": {"level": settings.log_level, "handlers": ["stderr"]},
        # uvicorn's own configuration gives these handlers and formats of
        # their own; here they only pass their records on to the root's.
        "loggers": {
            name: dict(uvicorn)
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
