"""An MCP server (streamable HTTP at /mcp) that accepts only Authgate tokens
minted for it: its RFC 8707 audience is RESOURCE_URI, so a token for the API
(or any other resource) is refused here.

Run it where the ``mcp`` SDK is installed (``./dev python`` in a checkout: it
is a dev dependency; a plain ``python`` may lack it):

    AUTHGATE_SERVER=http://127.0.0.1:8000 RESOURCE_URI=http://127.0.0.1:8002/mcp \
    PORT=8002 ./dev python examples/mcp_server/app.py

and start Authgate with AUTHGATE_MCP_RESOURCE_URI set to the same RESOURCE_URI.
The MCP SDK serves this resource's RFC 9728 metadata and answers 401 with the
challenge that lets an MCP client discover Authgate and sign in.
"""

import os

import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from authgate.guard import (
    Credential,
    CredentialError,
    IssuerMetadata,
    JwksKeySource,
    JwtVerifier,
)

SERVER = os.environ.get("AUTHGATE_SERVER", "http://127.0.0.1:8000").rstrip("/")
RESOURCE = os.environ.get("RESOURCE_URI", "http://127.0.0.1:8002/mcp")


class AuthgateTokenVerifier:
    """The MCP SDK's ``TokenVerifier``, backed by Authgate's guard: offline
    JWT checks against Authgate's JWKS (cached by the key source), audience
    pinned to this server."""

    def __init__(self) -> None:
        keys = JwksKeySource(IssuerMetadata(SERVER))
        self._jwt = JwtVerifier(keys, issuer=SERVER, audience=RESOURCE)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            verified = await self._jwt.verify(Credential(token, "bearer"))
        except CredentialError:
            return None
        principal = verified.principal
        return AccessToken(
            token=token,
            client_id=principal.client_id or "",
            scopes=sorted(principal.scopes),
            expires_at=int(principal.expires_at) if principal.expires_at else None,
            resource=RESOURCE,
            subject=principal.subject,
            claims={"iss": SERVER},
        )


mcp = MCPServer(
    name="Authgate example",
    token_verifier=AuthgateTokenVerifier(),
    auth=AuthSettings(
        issuer_url=SERVER,
        resource_server_url=RESOURCE,
        required_scopes=[],
        validate_token_resource=True,
    ),
)


@mcp.tool()
def whoami() -> str:
    """The subject (Authgate user id) of the caller's token."""
    token = get_access_token()
    return token.subject if token and token.subject else "anonymous"


if __name__ == "__main__":
    app = mcp.streamable_http_app(streamable_http_path="/mcp")
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8002")))
