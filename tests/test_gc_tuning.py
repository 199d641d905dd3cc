"""The serving process tunes its garbage collector once the app has started."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from service.gc_tuning import OLDER_THRESHOLDS, YOUNG_THRESHOLD


def test_a_started_app_has_frozen_its_startup_objects_and_raised_the_thresholds(
    app: FastAPI,
) -> None:
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    assert gc.get_freeze_count() > 10_000  # the start-up objects, out of the collector's way
