"""Last line of defence: an exception nothing else handled becomes a problem+json response.

A pure ASGI middleware, inside Starlette's ServerErrorMiddleware, so the error is logged once
(here, with its traceback) and the caller never sees a stack trace, SQL or driver text.
A lost database connection is a 503 with Retry-After instead of a 500.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import problem_response
from service.db import is_unavailable_error
from service.errors import DatabaseUnavailable, ServiceError
from service.tracing import record_error

logger = logging.getLogger("service.errors")


class UnexpectedErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            record_error(exc)  # the request's span, when tracing is on
            error: ServiceError
            if is_unavailable_error(exc):
                logger.warning("database unavailable: %r", exc)
                error = DatabaseUnavailable()
            else:
                logger.exception("unhandled error")
                error = ServiceError()
            if response_started:
                raise  # too late for a clean answer: let the server drop the connection
            await problem_response(error)(scope, receive, send)
