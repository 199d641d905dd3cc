"""Garbage-collector settings for a long-running server process, applied once it has started.

What start-up allocates (modules, FastAPI's routes, pydantic's validators, Tortoise's
models: about 76,000 tracked objects) lives as long as the process, yet every collection of
an older generation walks through it again: pauses of several milliseconds, in the middle
of requests. `gc.freeze()` moves it out of the collector's sight. And a request allocates
hundreds of short-lived objects, so the default first threshold (700) runs a collection
every few requests: 20,000 runs one every few dozen. Reference cycles are still collected.

docs/performance.md has what it gains under load.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLDS = (50, 100)


def tune_for_serving() -> None:
    gc.collect()  # what start-up left behind goes now, not frozen forever
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
