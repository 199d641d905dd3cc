"""The path a request addresses inside the app, whatever prefix a proxy put before it."""

from __future__ import annotations

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """`scope["path"]` without the ROOT_PATH prefix (uvicorn includes it in the path)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    return path[len(root_path) :] if root_path and path.startswith(root_path) else path
