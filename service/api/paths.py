"""Where a request goes inside the app: its path without a proxy's prefix, its route, and the
template that names the route in metrics and logs."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

NOTES_PREFIX = "/notes"


def route_path(scope: Scope) -> str:
    """`scope["path"]` without the ROOT_PATH prefix (uvicorn includes it in the path)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    return path[len(root_path) :] if root_path and path.startswith(root_path) else path


def serving_route(routes: Iterable[BaseRoute], scope: Scope) -> BaseRoute | None:
    """The route that serves this scope's method and path, as the router would pick it."""
    return next((route for route in routes if route.matches(scope)[0] is Match.FULL), None)


def route_template(path: str) -> str:
    """The documented template of a route's path: every route is served with and without a
    trailing slash and documented without it, so `/notes/` is counted and logged as `/notes`."""
    return path.removesuffix("/") or "/"
