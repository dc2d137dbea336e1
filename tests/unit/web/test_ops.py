"""``/healthz`` skips FastAPI's request handling but keeps its answer and its
place in the API description."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from authgate.web import ops


def build() -> FastAPI:
    app = FastAPI()
    app.include_router(ops.router)
    return app


def test_healthz_answers_ok_in_json() -> None:
    answer = TestClient(build()).get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"status": "ok"}


def test_healthz_is_still_documented_with_its_schema() -> None:
    operation = build().openapi()["paths"]["/healthz"]["get"]
    assert operation["tags"] == ["ops"]
    assert operation["description"] == "The process is up (no dependency checked)."
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] == {"type": "string"}


def test_only_get_is_served() -> None:
    answer = TestClient(build()).post("/healthz")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"
