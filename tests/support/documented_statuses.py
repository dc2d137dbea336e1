"""Every status the API tests see an endpoint answer is one ``/openapi.json``
documents for it.

``observing()`` wraps each Authgate app that starts serving while it is open
(whatever serves it: a live server, httpx's ASGI transport), notes the
(method, route template, status) of each request a documented route
answered, and hands back what the description does not list. The description
is built once per set of routes and kept for the session: building one takes
a third of a second, and a test's app differs from the last one's in
settings, not in what its routes answer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Seen = tuple[str, str, int]
#: The documented statuses of each (method, route template), by route set.
_described: dict[frozenset[tuple[str, str]], dict[tuple[str, str], set[str]]] = {}


def _documented_routes(app: FastAPI) -> list[APIRoute]:
    return [
        route
        for route in app.routes
        if isinstance(route, APIRoute) and route.include_in_schema
    ]


def documented(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    """The statuses ``app``'s description lists, by (method, route template)."""
    key = frozenset(
        (method, route.path_format)
        for route in _documented_routes(app)
        for method in route.methods
    )
    if key not in _described:
        paths = app.openapi()["paths"]
        _described[key] = {
            (method.upper(), path): set(operation["responses"])
            for path, operations in paths.items()
            for method, operation in operations.items()
        }
    return _described[key]


@dataclass
class Observer:
    """What the apps answered that their descriptions leave out."""

    undocumented: set[Seen] = field(default_factory=set)

    def wrap(self, app: FastAPI, inner: ASGIApp) -> ASGIApp:
        async def observed(scope: Scope, receive: Receive, send: Send) -> None:
            statuses: list[int] = []

            async def noting(message: Message) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
                await send(message)

            await inner(scope, receive, noting)
            # Set by the router: an answer from the middleware before it (a
            # refused Host, a body too large) belongs to no operation.
            route = scope.get("route")
            if (
                isinstance(route, APIRoute)
                and route.include_in_schema
                and scope["method"] in route.methods
                and statuses
            ):
                self._check(app, scope["method"], route.path_format, statuses[0])

        return observed

    def _check(self, app: FastAPI, method: str, path: str, status: int) -> None:
        if status == 500:  # a bug, which no description lists
            return
        listed = documented(app).get((method, path), set())
        if str(status) not in listed:
            self.undocumented.add((method, path, status))


@contextmanager
def observing() -> Iterator[Observer]:
    """Observe every Authgate app that builds its middleware meanwhile."""
    observer = Observer()
    original = FastAPI.build_middleware_stack

    def build(app: FastAPI) -> ASGIApp:
        stack = original(app)
        if getattr(app.state, "services", None) is None:  # a host app, not ours
            return stack
        return observer.wrap(app, stack)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastAPI, "build_middleware_stack", build)
        yield observer


@pytest.fixture(autouse=True)
def statuses_documented() -> Iterator[None]:
    """For a suite's conftest: each test fails when an Authgate app answered
    it with a status its description leaves out."""
    with observing() as observer:
        yield
    if observer.undocumented:
        listed = "\n".join(
            f"  {method} {path} -> {status}"
            for method, path, status in sorted(observer.undocumented)
        )
        pytest.fail(f"/openapi.json does not document these answers:\n{listed}")
