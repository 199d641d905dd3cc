"""Request ids, the access log and request metrics: what the edge pipeline (edge.py) records.

Every response carries `X-Request-ID`: the caller's, when it is 1-128 characters of
`A-Za-z0-9._-`, otherwise a new one. The id is bound to the logging context for the whole
request, so every line logged while serving it names it. When the response is done, one
access-log line and the metrics record method, route template (never the raw path with its
ids; a route's slash form is named like the route: `/notes/` is `/notes`), status and
duration. Headers and bodies are never logged: they hold API keys and notes.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import Scope

from service.api.metrics import record_request
from service.api.middleware.auth import authenticated_client
from service.api.paths import route_template, serving_route
from service.logs import log_access

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_HEADER_NAME = REQUEST_ID_HEADER.lower().encode("latin-1")
UNMATCHED_ROUTE = "<unmatched>"  # 404s: a raw path would make a label per probe

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# New ids: 32 hex digits, a random half for this process and a counter, unique without a
# system call per request (uuid4 reads the kernel's random source every time).
_process_id_part = os.urandom(8).hex()
_counter = itertools.count(1)


def _new_process_id_part() -> None:
    global _process_id_part, _counter
    _process_id_part, _counter = os.urandom(8).hex(), itertools.count(1)


os.register_at_fork(after_in_child=_new_process_id_part)  # a forked worker: ids of its own


def request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is acceptable, otherwise a new id."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER_NAME:
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return f"{_process_id_part}{next(_counter):016x}"


def method_label(scope: Scope) -> str:
    method: str = scope["method"]
    return method if method in _KNOWN_METHODS else "OTHER"


def route_label(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    route = scope.get("route")  # set by the router when the request reached it
    if route is None:  # answered before routing (401, 413, ...): match it ourselves
        route = serving_route(routes, scope)
    path: str | None = getattr(route, "path", None)
    return route_template(path) if path else UNMATCHED_ROUTE


def record_exchange(scope: Scope, method: str, route: str, status: int, duration: float) -> None:
    """Count the request in the metrics and write its access-log line."""
    record_request(method, route, status, duration)
    client = scope.get("client")
    log_access(
        method=method,
        route=route,
        path=scope["path"],
        status=status,
        duration_ms=round(duration * 1000, 3),
        client=client[0] if client else None,
        api_client=authenticated_client(scope),
    )
