"""Operations endpoints: liveness, readiness."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from authgate import upstream
from authgate.web.deps import ServicesDep

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
