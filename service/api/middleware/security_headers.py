"""Hardening headers on every response (added by the edge pipeline, edge.py).

`X-Content-Type-Options: nosniff` everywhere. A Content-Security-Policy that allows nothing
on API responses (JSON is never a document to render), and on the docs pages only what the
self-hosted Swagger UI and ReDoc need: scripts, styles, images and fonts from this origin
(styles also inline: both UIs set element styles; ReDoc also runs a blob: worker) — no
inline script, no other host.
"""

from __future__ import annotations

from starlette.types import Scope

from service.api.paths import route_path

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


RawHeaders = tuple[tuple[bytes, bytes], ...]


def _raw(policy: str) -> RawHeaders:
    return (
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", policy.encode("latin-1")),
        (b"referrer-policy", b"no-referrer"),
    )


# Appended, never merged: no response of this app sets these headers itself.
_API_HEADERS = _raw(API_POLICY)
_DOCS_HEADERS = _raw(DOCS_POLICY)


def hardening_headers(scope: Scope, docs_paths: frozenset[str]) -> RawHeaders:
    """The headers to add to this request's response: the docs pages' policy or the API's."""
    return _DOCS_HEADERS if route_path(scope) in docs_paths else _API_HEADERS
