"""Tests of the edge pipeline's steps (service/api/middleware/edge.py)."""

from __future__ import annotations

from fastapi import FastAPI

from service.api.middleware.edge import EdgeMiddleware
from service.api.routes.docs import DOCS_PATHS
from service.api_keys import KeyRing


def add_edge(
    app: FastAPI, keyring: KeyRing | None = None, cors_origins: list[str] | None = None
) -> FastAPI:
    """`app`, a small test app, behind the service's edge pipeline as create_app sets it up."""
    app.add_middleware(
        EdgeMiddleware,
        routes=app.router.routes,
        keyring=keyring or KeyRing(),
        max_body_bytes=1_000_000,
        docs_paths=DOCS_PATHS,
        cors_origins=cors_origins,
    )
    return app
