"""What routing a request costs: FastAPI's own scan of the routes against
``web/routing.py``'s ``PathIndex``, on Authgate's real route table.

Run with ``.venv/bin/python benchmarks/routing.py``; to measure another
FastAPI release over the project's environment:
``.venv/bin/uv run --no-sync --with 'fastapi==X' python benchmarks/routing.py``.

Every route of ``create_app`` is copied in its order, with its path and
methods and FastAPI's own route class, onto an endpoint that does nothing; so
the time per request is the app's ASGI stack, routing and FastAPI's request
handling, the same in both columns except for how the route is found. Each
fixed path (no ``{param}``, the ones ``PathIndex`` indexes) is requested
in turn; a path no route takes (a 404) shows the full scan's worst case.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastapi
from fastapi import APIRouter, FastAPI, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from authgate.app import create_app
from authgate.config import Settings
from authgate.web.routing import PathIndex


async def _nothing() -> Response:
    return Response(b"")


def _copy(source: FastAPI, *, index: bool) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    if index:
        app.router.middleware_stack = PathIndex(app.router)
    _copy_routes(source.router.routes, app.router)
    return app


def _copy_routes(routes: list[BaseRoute], into: APIRouter) -> None:
    for route in routes:
        # FastAPI 0.137 and later keep an included router whole instead of
        # flattening its routes into the app's list: copy it as such.
        included = getattr(route, "original_router", None)
        if included is not None:
            router = APIRouter()
            _copy_routes(included.routes, router)
            into.include_router(router, prefix=_prefix(route))
        elif isinstance(route, Route):
            into.add_api_route(
                route.path, _nothing, methods=sorted(route.methods or {"GET"})
            )
        else:  # mounts (static files): matched by prefix, kept as they are
            into.routes.append(route)


def _prefix(included: BaseRoute) -> str:
    prefix: str = getattr(included, "include_context").prefix  # noqa: B009
    return prefix


def _requests(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every fixed path, in route order."""
    found: list[tuple[str, str]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _requests(included.routes, prefix + _prefix(route))
        elif isinstance(route, Route) and route.methods and not route.param_convertors:
            found.append((sorted(route.methods)[0], prefix + route.path))
    return found


async def _time(app: FastAPI, method: str, path: str, rounds: int) -> float:
    """Best of five: µs per request."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            await app(dict(scope), receive, send)
        best = min(best, (time.perf_counter() - started) / rounds)
    return best * 1e6


async def _measure(rounds: int, out: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            _env_file=None,
            data_dir=Path(data),
            secret_key="routing-benchmark-" + "x" * 32,
        )
        source = create_app(settings)
    requests = _requests(source.router.routes)
    scan, indexed = _copy(source, index=False), _copy(source, index=True)
    columns: dict[str, list[float]] = {"scan": [], "index": []}
    for method, path in requests:
        columns["scan"].append(await _time(scan, method, path, rounds))
        columns["index"].append(await _time(indexed, method, path, rounds))
    miss = [await _time(app, "GET", "/no/such/path", rounds) for app in (scan, indexed)]
    out(f"FastAPI {fastapi.__version__}: {len(requests)} fixed paths requested, ")
    out("µs per request (best of 5)\n")
    out(f"{'':24}{'FastAPI scan':>14}{'PathIndex':>12}\n")
    for label, pick in (
        ("mean over fixed paths", statistics.fmean),
        ("median", statistics.median),
        ("slowest", max),
    ):
        scan_us, index_us = pick(columns["scan"]), pick(columns["index"])
        out(f"{label:24}{scan_us:14.1f}{index_us:12.1f}\n")
    out(f"{'404 (no route)':24}{miss[0]:14.1f}{miss[1]:12.1f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="requests per timing")
    options = parser.parse_args()
    asyncio.run(_measure(options.rounds, lambda text: print(text, end="")))


if __name__ == "__main__":
    main()
