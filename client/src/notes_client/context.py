"""X-Request-ID propagation: the id of the work in progress, carried by a context variable.

A service handling a request sets the id once (e.g. in its own middleware) and every call
the client makes in that context, retries included, carries it, so one id follows the work
through both services' logs:

    with request_id("checkout-7f3a"):
        client.create("Ship order 7f3a")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("notes_request_id", default=None)


@contextmanager
def request_id(value: str) -> Iterator[str]:
    """Send `X-Request-ID: value` on every call made inside this block (threads and tasks
    started inside it inherit the value as context variables do)."""
    token = current_request_id.set(value)
    try:
        yield value
    finally:
        current_request_id.reset(token)
