"""The baseline ``/healthz``: a bare Starlette app on the same uvicorn, with the
options ``authgate serve`` uses (``benchmarks/run.py`` starts it as
``python bare.py PORT``). What Authgate's own ``/healthz`` costs above it is
its middleware and routing."""

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate.cli.serve import UVICORN_OPTIONS


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


if __name__ == "__main__":
    uvicorn.run(
        Starlette(routes=[Route("/healthz", healthz)]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        **UVICORN_OPTIONS,
    )
