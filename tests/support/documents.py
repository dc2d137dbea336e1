"""A tiny web server on loopback for Client ID Metadata Documents (and the
misbehaving hosts the fetcher must refuse)."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: ``False``: no Content-Length, the body ends when the connection closes
    length: bool = True


@dataclass
class DocumentHost:
    """A tiny web server for client metadata documents."""

    port: int
    routes: dict[str, Route]
    hits: list[str]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, document: Any = None, **route: Any) -> str:
        body = route.pop("body", None)
        if body is None:
            body = json.dumps(document).encode()
        headers = {"Content-Type": "application/json", **route.pop("headers", {})}
        self.routes[path] = Route(body=body, headers=headers, **route)
        return self.url(path)


@contextmanager
def document_host() -> Iterator[DocumentHost]:
    routes: dict[str, Route] = {}
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            route = routes.get(self.path, Route(status=404))
            if route.delay:
                time.sleep(route.delay)
            try:
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield DocumentHost(httpd.server_address[1], routes, hits)
    finally:
        httpd.shutdown()
        httpd.server_close()


def document(url: str, redirect_uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Example MCP Client",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **extra,
    }
