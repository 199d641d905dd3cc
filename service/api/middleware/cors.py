"""CORS: closed unless CORS_ORIGINS names the browser origins that may call the service."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

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


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """With no origins, nothing is installed: browsers then refuse cross-origin calls."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,  # keys travel in Authorization, never in cookies
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
