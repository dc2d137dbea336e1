"""RFC 6750 §3 ``WWW-Authenticate`` challenges, with RFC 9728 §5.1's
``resource_metadata`` so a client that was refused can discover where to get a
token for this resource."""

from collections.abc import Awaitable, Callable
from typing import Any


def challenge(
    error: str | None = None,
    description: str | None = None,
    *,
    resource_metadata: str | None = None,
    scope: str | None = None,
) -> str:
    params = {
        "error": error,
        "error_description": description,
        "scope": scope,
        "resource_metadata": resource_metadata,
    }
    parts = [f'{k}="{_quote(v)}"' for k, v in params.items() if v]
    return "Bearer" + (" " + ", ".join(parts) if parts else "")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


async def send_json(
    send: Callable[[Any], Awaitable[None]],
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
