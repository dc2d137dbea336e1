"""Operations endpoints: liveness, readiness, metrics."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from authgate import upstream
from authgate.server import metrics
from authgate.web.deps import ServicesDep
from authgate.web.errors import error_response

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no dependency checked)."""
    return {"status": "ok"}


@router.get("/readyz")
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
