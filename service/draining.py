"""Whether this process is shutting down: set on SIGTERM by the server, read by readiness.

Readiness answers 503 as soon as draining begins, so load balancers stop sending new
requests while the in-flight ones finish.
"""

from __future__ import annotations


class _Lifecycle:
    draining = False


def begin_draining() -> None:
    """The process is shutting down: from now on readiness answers 503."""
    _Lifecycle.draining = True


def end_draining() -> None:
    """Serving again (a new app in the same process, as in tests)."""
    _Lifecycle.draining = False


def is_draining() -> bool:
    return _Lifecycle.draining
