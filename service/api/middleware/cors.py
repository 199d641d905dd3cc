"""CORS: closed unless CORS_ORIGINS names the browser origins that may call the service."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
EXPOSED_HEADERS = ["ETag", "Location", "Link", "Retry-After", "X-Request-ID"]
PREFLIGHT_MAX_AGE_SECONDS = 600


def with_cors(app: ASGIApp, origins: list[str]) -> ASGIApp:
    """`app` behind Starlette's CORS middleware; with no origins, `app` itself (browsers then
    refuse cross-origin calls)."""
    if not origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,  # keys travel in Authorization, never in cookies
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
