"""Hardening headers on every response, as a pure ASGI middleware.

`X-Content-Type-Options: nosniff` everywhere. A Content-Security-Policy that allows nothing
on API responses (JSON is never a document to render), and on the docs pages only what the
self-hosted Swagger UI and ReDoc need: scripts, styles, images and fonts from this origin
(styles also inline: both UIs set element styles; ReDoc also runs a blob: worker) — no
inline script, no other host.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.paths import route_path

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _raw(policy: str) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", policy.encode("latin-1")),
        (b"referrer-policy", b"no-referrer"),
    )


# Appended, never merged: no response of this app sets these headers itself.
_API_HEADERS = _raw(API_POLICY)
_DOCS_HEADERS = _raw(DOCS_POLICY)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, docs_paths: frozenset[str]) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _DOCS_HEADERS if route_path(scope) in self.docs_paths else _API_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
