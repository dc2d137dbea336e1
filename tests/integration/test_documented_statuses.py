"""The check the API tests run (``tests/support/documented_statuses.py``):
an answer the description leaves out is reported with its method, route
template and status."""

from typing import Any

import anyio
import httpx

from tests.conftest import MakeSettings
from tests.support.documented_statuses import observing


async def _get(app: Any, path: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1"
    ) as http:
        return (await http.get(path)).status_code


def test_an_undocumented_status_is_reported(make_settings: MakeSettings) -> None:
    from authgate.app import create_app
    from authgate.errors import Conflict

    app = create_app(make_settings())

    @app.get("/api/v1/teapots/{name}")
    async def teapot(name: str) -> None:
        raise Conflict(f"{name} is brewing.")

    with observing() as observer:
        assert anyio.run(_get, app, "/api/v1/teapots/earl-grey") == 409
    assert observer.undocumented == {("GET", "/api/v1/teapots/{name}", 409)}


def test_a_documented_status_is_not(make_settings: MakeSettings) -> None:
    from authgate.app import create_app

    app = create_app(make_settings())

    with observing() as observer:
        assert anyio.run(_get, app, "/api/v1/me") == 401
    assert observer.undocumented == set()
