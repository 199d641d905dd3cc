"""Whether this process is shutting down: set on SIGTERM by the server, read by readiness.

Readiness answers 503 as soon as draining begins, so load balancers stop sending new
requests while the in-flight ones finish.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar


class _Lifecycle:
    draining = False
    hooks: ClassVar[list[Callable[[], None]]] = []


def on_drain(hook: Callable[[], None]) -> None:
    """Call `hook` when draining begins (from the signal handler: it must only schedule work),
    e.g. to answer waiting long polls at once so the drain never waits on them."""
    _Lifecycle.hooks.append(hook)


def begin_draining() -> None:
    """The process is shutting down: from now on readiness answers 503."""
    _Lifecycle.draining = True
    for hook in _Lifecycle.hooks:
        hook()


def end_draining() -> None:
    """Serving again (a new app in the same process, as in tests)."""
    _Lifecycle.draining = False


def is_draining() -> bool:
    return _Lifecycle.draining
