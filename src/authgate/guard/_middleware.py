"""``GuardMiddleware``: resolve the caller once per request, before the app runs.

The result goes into ``scope["state"]`` (so ``request.state.principal`` works in
Starlette and FastAPI) and into a context variable for code far from the
request. A bad credential does not end the request here: the error is kept
beside the principal, and the endpoints that need a caller answer 401 with it,
while public endpoints keep working.
"""

import contextvars
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from authgate.guard._cache import VerificationCache
from authgate.guard._challenge import challenge, send_json
from authgate.guard._credentials import Credential, extract
from authgate.guard._errors import CredentialError
from authgate.guard._principal import Principal
from authgate.guard._verifiers import Verifier

Scope = dict[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]

_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "authgate_principal", default=None
)


def current_principal() -> Principal | None:
    """The caller of the request being served, or ``None``."""
    return _current.get()


class GuardMiddleware:
    """Example:
    >>> from starlette.applications import Starlette
    >>> app = GuardMiddleware(Starlette(), verifiers=[])
    """

    def __init__(
        self,
        app: ASGIApp,
        verifiers: Sequence[Verifier],
        *,
        cookie_name: str | None = None,
        allow_query_api_key: bool = False,
        cache: VerificationCache | None = None,
        fallback: Callable[[], Awaitable[Principal | None]] | None = None,
        resource_metadata: str | None = None,
        required: bool = False,
        public_paths: Sequence[str] = (),
    ) -> None:
        """``resource_metadata``: this resource's RFC 9728 document URL, named in
        every challenge. ``required``: answer 401 here for any request without a
        valid credential (except ``public_paths`` prefixes) instead of leaving
        it to the endpoints — for apps that are protected as a whole, such as
        an MCP server."""
        self.app = app
        self.verifiers = list(verifiers)
        self.cookie_name = cookie_name
        self.allow_query_api_key = allow_query_api_key
        self.cache = cache if cache is not None else VerificationCache()
        self.fallback = fallback
        self.resource_metadata = resource_metadata
        self.required = required
        self.public_paths = tuple(public_paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        credential = extract(
            scope.get("headers", ()),
            scope.get("query_string", b""),
            cookie_name=self.cookie_name,
            allow_query=self.allow_query_api_key,
            client=scope.get("client"),
        )
        principal: Principal | None = None
        error: CredentialError | None = None
        if credential is not None:
            try:
                principal = await self.resolve(credential)
            except CredentialError as exc:
                error = exc
        elif self.fallback is not None:
            principal = await self.fallback()
        state = scope.setdefault("state", {})
        state["principal"] = principal
        state["auth_error"] = error
        state["auth_transport"] = credential.transport if credential else None
        state["auth_resource_metadata"] = self.resource_metadata
        if principal is None and self.required and not self._public(scope):
            await self._refuse(send, error)
            return
        token = _current.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)

    def _public(self, scope: Scope) -> bool:
        path = str(scope.get("path", ""))
        return any(path.startswith(prefix) for prefix in self.public_paths)

    async def _refuse(self, send: Any, error: CredentialError | None) -> None:
        if error is not None and error.status != 401:
            body = {
                "error": "temporarily_unavailable",
                "error_description": error.description,
            }
            await send_json(send, error.status, json.dumps(body).encode(), [])
            return
        code = error.error if error else None
        description = error.description if error else "Send a bearer token."
        header = challenge(
            code,
            error.description if error else None,
            resource_metadata=self.resource_metadata,
        )
        body = {"error": code or "unauthenticated", "error_description": description}
        await send_json(
            send,
            401,
            json.dumps(body).encode(),
            [(b"www-authenticate", header.encode())],
        )

    async def resolve(self, credential: Credential) -> Principal:
        key = self.cache.key(credential.value)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        since = self.cache.generation
        for verifier in self.verifiers:
            if verifier.accepts(credential):
                verified = await verifier.verify(credential)
                self.cache.put(
                    key,
                    verified.principal,
                    valid_until=verified.valid_until,
                    tags=verified.tags,
                    since=since,
                )
                return verified.principal
        raise CredentialError("The credential is not recognised.")
