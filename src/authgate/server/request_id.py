"""The request id: one value per request, on every log line it causes and in
its answer's ``X-Request-ID``, so an operator can find all of a request's lines
and a caller can quote the id of a failed call.

A proxy or caller that already gave the request an id (``X-Request-ID``) keeps
it, as long as it is short and made of characters that cannot forge or break a
log line; any other value is replaced by a fresh one, never echoed.

The id travels in a context variable: set for the request's task, it is seen
by whatever that task logs or starts (uvicorn's access log is written inside
``send``, so it carries the id too) and by nothing else.
"""

import itertools
import os
import re
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

HEADER = b"x-request-id"
#: What a caller's id may be: up to 128 characters that need no quoting in a
#: log line (UUIDs, hex, base64, the ids proxies mint).
ACCEPTED = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")
#: On log lines written outside any request (start-up, background jobs).
NONE = "-"

current: ContextVar[str] = ContextVar("authgate_request_id", default=NONE)


class _Ids:
    """New ids: 64 random bits drawn once per process, then a counter, in 32
    hex digits. Unique across processes and machines like a random id, at a
    fraction of the cost of drawing 128 bits per request (an id names a
    request; it guards nothing)."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


_ids = _Ids()


def choose(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's id when it is acceptable, else a new one."""
    for name, value in headers:
        if name == HEADER:
            if ACCEPTED.fullmatch(value):
                return value.decode("ascii")
            break
    return _ids.new()


class RequestIdMiddleware:
    """Outermost, so every other middleware logs with the id. Pure ASGI: a
    header scan, one random value and a header added to the answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, scope: MutableMapping[str, Any], receive: Any, send: Any
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = choose(scope["headers"])
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                # As Starlette's MutableHeaders does: a new list in the message.
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = current.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current.reset(token)
