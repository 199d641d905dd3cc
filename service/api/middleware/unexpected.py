"""Last line of defence: an exception nothing else handled becomes a problem+json response.

The edge pipeline (edge.py) catches what the app raises, inside Starlette's
ServerErrorMiddleware, so the error is logged once (here, with its traceback) and the caller
never sees a stack trace, SQL or driver text. A lost database connection is a 503 with
Retry-After instead of a 500.
"""

from __future__ import annotations

import logging

from service.db import is_unavailable_error
from service.errors import DatabaseUnavailable, ServiceError
from service.tracing import record_error

logger = logging.getLogger("service.errors")


def unexpected_error(exc: Exception) -> ServiceError:
    """Log `exc` (and record it on the request's span, when tracing is on); the problem the
    caller gets for it."""
    record_error(exc)
    if is_unavailable_error(exc):
        logger.warning("database unavailable: %r", exc)
        return DatabaseUnavailable()
    logger.exception("unhandled error")
    return ServiceError()
