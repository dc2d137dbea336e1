"""A small Starlette host app protected as a whole by Authgate's guard, run in
its own process by the guard tests (``python tests/support/starlette_host.py``).

It takes the same environment as ``examples/fastapi_app/app.py``
(``AUTHGATE_SERVER``, ``RESOURCE_URI``, ``PORT``, ``AUTHGATE_CLIENT_ID`` /
``AUTHGATE_CLIENT_SECRET``) plus the two cache knobs a test needs short:
``JWKS_MIN_REFRESH_SECONDS`` and ``INTROSPECTION_CACHE_SECONDS``.
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate.guard import (
    GuardMiddleware,
    metadata_path,
    metadata_url,
    protected_resource_metadata,
    remote_verifiers,
)

SERVER = os.environ["AUTHGATE_SERVER"]
RESOURCE = os.environ["RESOURCE_URI"]


async def public(_request: Request) -> JSONResponse:
    return JSONResponse({"message": "Anyone can read this."})


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse(request.state.principal.to_dict())


async def resource_metadata(_request: Request) -> JSONResponse:
    return JSONResponse(protected_resource_metadata(RESOURCE, SERVER))


app = GuardMiddleware(
    Starlette(
        routes=[
            Route("/public", public),
            Route("/whoami", whoami),
            Route(metadata_path(RESOURCE), resource_metadata),
        ]
    ),
    verifiers=remote_verifiers(
        SERVER,
        audience=RESOURCE,
        client_id=os.environ.get("AUTHGATE_CLIENT_ID"),
        client_secret=os.environ.get("AUTHGATE_CLIENT_SECRET"),
        introspection_cache_seconds=float(
            os.environ.get("INTROSPECTION_CACHE_SECONDS", "5")
        ),
        jwks_min_refresh_seconds=float(
            os.environ.get("JWKS_MIN_REFRESH_SECONDS", "30")
        ),
    ),
    resource_metadata=metadata_url(RESOURCE),
    required=True,
    public_paths=["/public", "/.well-known/"],
)

if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning"
    )
