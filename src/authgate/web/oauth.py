"""``/oauth/*`` and ``/.well-known/*``: adapters onto ``authgate.oauth``."""

from typing import Any

from fastapi import APIRouter, Response

from authgate.web.deps import ServicesDep

router = APIRouter(tags=["oauth"])


@router.get("/oauth/jwks")
async def jwks(services: ServicesDep, response: Response) -> dict[str, Any]:
    """Published signing keys (RFC 7517): current ones and retired ones whose
    tokens may still be alive."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return services.keys.ring.jwks()
