"""A refusal to start, told in one line: the lifespan raises `StartupRefused` with a message
that says all there is to say (what is wrong, what to do), and the server logs that message.

Starlette reports any exception that escapes the lifespan by sending its whole traceback as
the `lifespan.startup.failed` message, which uvicorn logs as one error: for a refusal the
traceback only buries the line that matters. Any other exception keeps its traceback. The edge
pipeline (edge.py) runs the lifespan through `run_lifespan`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StartupRefused(RuntimeError):
    """The service will not start, for the reason its message gives in full."""


async def run_lifespan(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run `app`'s lifespan; a `StartupRefused` is reported as its message alone."""
    failure: Message | None = None

    async def send_failure_later(message: Message) -> None:
        nonlocal failure
        if message["type"] == "lifespan.startup.failed":
            failure = message  # sent below, once the exception that follows is known
        else:
            await send(message)

    try:
        await app(scope, receive, send_failure_later)
    except StartupRefused as refusal:
        await send({"type": "lifespan.startup.failed", "message": str(refusal)})
        raise
    except BaseException:
        if failure is not None:
            await send(failure)
        raise
    if failure is not None:  # a failure without an exception: pass it on as it is
        await send(failure)
