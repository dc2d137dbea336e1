"""``PathIndex`` routes exactly as Starlette's scan does, without the scan."""

from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from authgate.web.routing import PathIndex


def build() -> FastAPI:
    app = FastAPI()
    app.router.middleware_stack = PathIndex(app.router)

    @app.get("/items/{name}")
    async def by_name(name: str) -> dict[str, str]:
        return {"route": "by_name", "name": name}

    @app.get("/items/new")
    async def new_item() -> dict[str, str]:  # shadowed by the route above
        return {"route": "new"}

    @app.post("/things")
    async def add_thing() -> dict[str, str]:
        return {"route": "add_thing"}

    @app.get("/things")
    async def list_things() -> dict[str, str]:
        return {"route": "list_things"}

    @app.delete("/only-delete")
    async def only_delete() -> dict[str, str]:
        return {"route": "only_delete"}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(build())


def test_the_first_matching_route_wins_as_in_the_scan(client: TestClient) -> None:
    assert client.get("/items/new").json() == {"route": "by_name", "name": "new"}


def test_the_method_picks_among_routes_of_one_path(client: TestClient) -> None:
    assert client.get("/things").json() == {"route": "list_things"}
    assert client.post("/things").json() == {"route": "add_thing"}


def test_a_known_path_with_the_wrong_method_is_405(client: TestClient) -> None:
    response = client.get("/only-delete")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE"


def test_unknown_paths_and_trailing_slashes_go_through_the_scan(
    client: TestClient,
) -> None:
    assert client.get("/nowhere").status_code == 404
    response = client.get("/things/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].endswith("/things")


def test_a_route_added_after_the_first_request_is_routed(client: TestClient) -> None:
    app = cast(FastAPI, client.app)
    assert client.get("/late").status_code == 404

    @app.get("/late")
    async def late() -> dict[str, str]:
        return {"route": "late"}

    assert client.get("/late").json() == {"route": "late"}


def test_behind_a_path_prefix_the_scan_strips_it() -> None:
    client = TestClient(build(), root_path="/auth")
    assert client.get("/auth/things").json() == {"route": "list_things"}


def test_a_fixed_path_is_routed_without_trying_the_other_routes() -> None:
    app = build()
    tried: list[str] = []

    def spy(route: BaseRoute) -> None:
        matches = route.matches

        def counted(scope: Any) -> Any:
            tried.append(getattr(route, "path", "?"))
            return matches(scope)

        route.matches = counted  # type: ignore[method-assign]

    for route in app.router.routes:
        spy(route)
    client = TestClient(app)
    assert client.post("/things").json() == {"route": "add_thing"}
    assert tried == ["/things"]  # the scan would have tried every route before it
