"""``GuardMiddleware``: resolve the caller once per request, before the app runs.

The result goes into ``scope["state"]`` (so ``request.state.principal`` works in
Starlette and FastAPI) and into a context variable for code far from the
request. A bad credential does not end the request here: the error is kept
beside the principal, and the endpoints that need a caller answer 401 with it,
while public endpoints keep working.
"""

import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from authgate.guard._cache import VerificationCache
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
    ) -> None:
        self.app = app
        self.verifiers = list(verifiers)
        self.cookie_name = cookie_name
        self.allow_query_api_key = allow_query_api_key
        self.cache = cache if cache is not None else VerificationCache()
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        credential = extract(
            scope.get("headers", ()),
            scope.get("query_string", b""),
            cookie_name=self.cookie_name,
            allow_query=self.allow_query_api_key,
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
        token = _current.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)

    async def resolve(self, credential: Credential) -> Principal:
        key = self.cache.key(credential.value)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        for verifier in self.verifiers:
            if verifier.accepts(credential):
                verified = await verifier.verify(credential)
                self.cache.put(key, verified)
                return verified.principal
        raise CredentialError("The credential is not recognised.")
