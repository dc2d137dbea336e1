"""A real uvicorn server on a free loopback port, in a thread of the test process
(so tests can move the shared clock and read the app's services).

The socket is bound before the app is built, so the app can be configured with
its real public URL (the issuer in its tokens and metadata).
"""

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from authgate.cli.serve import UVICORN_OPTIONS


class LiveServer:
    def __init__(
        self, make_app: Callable[[str], Any], *, url_host: str = "127.0.0.1"
    ) -> None:
        """``url_host``: the name the server's URL gives (``localhost`` where a
        test needs a domain name, as WebAuthn does); it listens on 127.0.0.1."""
        # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on
        # sockets whose proto says TCP, and without it every keep-alive
        # response waits ~40 ms for a delayed ACK (Nagle).
        self._socket = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://{url_host}:{self.port}"
        try:
            self.app = make_app(self.url)
        except BaseException:
            self._socket.close()
            raise
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                lifespan="on",
                timeout_graceful_shutdown=2,
                **UVICORN_OPTIONS,
            )
        )
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.005)
        return self

    def _serve(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            self.loop.close()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


@contextmanager
def live_server(make_app: Callable[[str], Any]) -> Iterator[LiveServer]:
    server = LiveServer(make_app).start()
    try:
        yield server
    finally:
        server.stop()
