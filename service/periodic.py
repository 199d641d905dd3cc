"""Background purges: one pass every so often, for as long as the service runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def purge_every(interval: float, purge: Callable[[], Awaitable[int]], what: str) -> None:
    """Run `purge` every `interval` seconds until cancelled, logging how many `what` it
    deleted; a failed pass (the database is down, say) is logged and tried again at the next."""
    while True:
        try:
            purged = await purge()
        except Exception:
            logger.exception("Purging %s failed; will retry", what)
        else:
            if purged:
                logger.info("Purged %d %s", purged, what)
        await asyncio.sleep(interval)
