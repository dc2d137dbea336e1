"""A protected API in about ten lines of setup: Authgate's guard in a FastAPI app.

Run it in the project's environment (``./dev python`` in a checkout, which has
FastAPI and uvicorn; elsewhere a virtualenv with authgate, fastapi and uvicorn),
against an Authgate started with AUTHGATE_EXTRA_RESOURCES=http://127.0.0.1:8001:

    AUTHGATE_SERVER=http://127.0.0.1:8000 RESOURCE_URI=http://127.0.0.1:8001 \
    PORT=8001 ./dev python examples/fastapi_app/app.py

Personal access tokens and API keys are checked by introspection, which needs
AUTHGATE_CLIENT_ID / AUTHGATE_CLIENT_SECRET (a confidential client: ``authgate
admin create-client example-api``); without them the guard refuses them with
a 401 that says so, and logs it once. A user's token for this app:
``authgate auth login --resource http://127.0.0.1:8001`` once, then
``authgate auth token --resource http://127.0.0.1:8001`` (docs/guard.md).
"""

import os
from typing import Any

import uvicorn
from fastapi import FastAPI

from authgate.guard import (
    GuardMiddleware,
    metadata_path,
    metadata_url,
    protected_resource_metadata,
    remote_verifiers,
)
from authgate.guard.fastapi import CurrentPrincipal, require_role, require_scope

SERVER = os.environ.get("AUTHGATE_SERVER", "http://127.0.0.1:8000")
RESOURCE = os.environ.get("RESOURCE_URI", "http://127.0.0.1:8001")

app = FastAPI(title="Example API")
app.add_middleware(
    GuardMiddleware,
    verifiers=remote_verifiers(
        SERVER,
        audience=RESOURCE,
        client_id=os.environ.get("AUTHGATE_CLIENT_ID"),
        client_secret=os.environ.get("AUTHGATE_CLIENT_SECRET"),
    ),
    resource_metadata=metadata_url(RESOURCE),
)


@app.get(metadata_path(RESOURCE))
def resource_metadata() -> dict[str, Any]:
    """RFC 9728: tells clients which authorization server issues tokens for us."""
    return protected_resource_metadata(RESOURCE, SERVER)


@app.get("/public")
def public() -> dict[str, str]:
    return {"message": "Anyone can read this."}


@app.get("/whoami")
def whoami(principal: CurrentPrincipal) -> dict[str, object]:
    return principal.to_dict()


@app.post("/items", status_code=201, dependencies=[require_scope("write")])
def create_item(principal: CurrentPrincipal) -> dict[str, str]:
    return {"created_by": principal.subject}


@app.get("/org/settings", dependencies=[require_role("admin")])
def org_settings(principal: CurrentPrincipal) -> dict[str, str | None]:
    """For the admins of the caller's org (the token's ``org`` and ``roles``)."""
    return {"org": principal.org_id, "role": principal.role}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8001")))
