"""The baseline Authgate's ``/healthz`` is divided by: a bare Starlette app
with one route returning a tiny JSON, run by ``benchmarks/run.py`` on the same
uvicorn (uvloop, httptools, the same number of workers), so the ratio is what
Authgate's middleware and routing add to a request that does nothing."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/healthz", healthz)])
