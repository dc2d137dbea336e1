"""Requests for a fixed path go straight to the routes that can take them.

Starlette finds a request's route by trying every route in turn, about 2 µs
each here: with some 120 routes, a request for the tenth route paid more to be
routed than ``/healthz`` costs to answer, and a 404 paid for all of them. Almost
every request names a fixed path (no ``{param}``), so ``PathIndex`` keeps, for
each fixed path, the few routes whose pattern matches it, in their order, and
lets Starlette choose among just those: the same answer, method checks and 405s
included. Other paths are routed by the full scan, as before.
"""

from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send


class PathIndex:
    """Installed as ``router.middleware_stack``, the router's entry point."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._scan: ASGIApp = router.app
        self._indexed = -1
        self._by_path: dict[str, Router] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a proxy's path prefix (``root_path``), the full scan strips it.
        if scope["type"] == "http" and not scope.get("root_path"):
            if self._indexed != len(self._router.routes):
                self._build()
            narrowed = self._by_path.get(scope["path"])
            if narrowed is not None:
                scope.setdefault("router", self._router)
                await narrowed.app(scope, receive, send)
                return
        await self._scan(scope, receive, send)

    def _build(self) -> None:
        """(Re)built when the route count changes, so routes added after the
        first request are routed too."""
        routes = self._router.routes
        fixed = {
            route.path
            for route in routes
            if isinstance(route, Route) and not route.param_convertors
        }
        self._by_path = {
            path: Router([route for route in routes if _may_match(route, path)])
            for path in fixed
        }
        self._indexed = len(routes)


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether ``route`` can match a request for ``path`` (with some method).
    A route kind that matches by more than its path pattern is kept, so the
    narrowed list never loses a route the full scan would have chosen."""
    pattern = getattr(route, "path_regex", None)
    return pattern is None or pattern.match(path) is not None
