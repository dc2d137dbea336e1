"""Requests sent to a live server at the same moment, to test what a race
leaves (the database's row locks, atomic updates)."""

import threading
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.live import LiveServer

Request = Callable[[httpx.Client], httpx.Response]


def race(server: LiveServer, *requests: Request) -> list[httpx.Response]:
    """Send ``requests`` at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(index: int, request: Request) -> None:
        with server.client() as http:
            http.get("/healthz")  # connect before the start line
            barrier.wait(timeout=30)
            results[index] = request(http)

    threads = [
        threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, httpx.Response) for r in results), results
    return results
