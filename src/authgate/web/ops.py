"""Operations endpoints: liveness, readiness, metrics."""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from authgate import upstream
from authgate.server import metrics
from authgate.web.deps import ServicesDep
from authgate.web.errors import error_response

router = APIRouter(tags=["ops"])
#: ``/healthz``'s answer, encoded once.
HEALTHY = b'{"status":"ok"}'


class Unsolved(APIRoute):
    """An operation FastAPI documents but only calls: the endpoint takes no
    argument and returns its own ``Response``. FastAPI's handling of a route
    (parsing the query string, headers and cookies for parameters there are
    none of, then validating and serialising the value returned) was 30 of
    the 72 µs ``/healthz`` cost in-process, more than all the middleware
    together; a load balancer asks for it several times a second."""

    def get_route_handler(
        self,
    ) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[], Awaitable[Response]] = self.endpoint

        async def handle(_request: Request) -> Response:
            return await endpoint()

        return handle


async def healthz() -> Response:
    """The process is up (no dependency checked)."""
    return Response(HEALTHY, media_type="application/json")


router.add_api_route(
    "/healthz",
    healthz,
    methods=["GET"],
    response_model=dict[str, str],
    summary="Check that the process is up",
    route_class_override=Unsolved,
)


@router.get("/readyz", summary="Check that the server can serve")
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready to serve: the database answers."""
    database = await services.db.ping()
    body = {
        "status": "ready" if database else "unavailable",
        "database": "ok" if database else "unreachable",
        "provider": upstream.select(services.settings),
    }
    return JSONResponse(body, status_code=200 if database else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request, services: ServicesDep) -> Response:
    """Prometheus text format 0.0.4; who may read it: ``metrics.refusal``."""
    refused = metrics.refusal(
        services.settings,
        request.headers,
        request.client.host if request.client else None,
    )
    if refused is not None:
        challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
        return error_response(
            refused.status,
            refused.code,
            refused.description,
            challenge if refused.status == 401 else None,
        )
    siblings = services.siblings.read() if services.siblings is not None else []
    return Response(services.metrics.render(siblings), media_type=metrics.CONTENT_TYPE)
