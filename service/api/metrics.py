"""Prometheus metrics: what the request middleware records, and the registry `/metrics` reads.

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set to an empty directory shared by
the workers, before they start), the client library keeps each worker's values in files there
and `/metrics` adds them up, whichever worker answers. The pool gauges are the exception: they
are read live from the pool of the worker answering the scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.changes import ChangeRead
from service.internals.pool_usage import pool_usage

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
)
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "Requests being served right now.",
    multiprocess_mode="livesum",
)


def record_request(method: str, route: str, status: int, duration: float) -> None:
    """Count one answered request and observe its duration."""
    requests, durations = _children(method, route, status)
    requests.inc()
    durations.observe(duration)


@lru_cache(maxsize=4096)  # labels are bounded: methods x route templates x status codes
def _children(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    # `labels()` locks and builds a key on every call; a request needs only the lookup.
    return REQUESTS.labels(method, route, str(status)), DURATION.labels(method, route)


FOLLOWERS_WAITING = Gauge(
    "changes_followers_waiting",
    "Change feed followers waiting right now: long polls and open event streams.",
    multiprocess_mode="livesum",
)
CHANGES_SERVED = Counter("changes_served_total", "Changes sent to followers (JSON or events).")
FEED_LAG = Histogram(
    "changes_feed_lag_seconds",
    "Time from a change being written to it being sent to a follower.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
)


@contextmanager
def following() -> Iterator[None]:
    """Count a follower waiting while the block runs."""
    FOLLOWERS_WAITING.inc()
    try:
        yield
    finally:
        FOLLOWERS_WAITING.dec()


def changes_served(changes: Sequence[ChangeRead]) -> None:
    if not changes:
        return
    CHANGES_SERVED.inc(len(changes))
    now = datetime.now(UTC)
    for change in changes:
        FEED_LAG.observe(max(0.0, (now - change.at).total_seconds()))


class PoolCollector(Collector):
    """Database connections in use and open, read from the pool at scrape time."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # nothing to read before the app starts: no collect() at register

    def collect(self) -> Iterator[GaugeMetricFamily]:
        usage = pool_usage()
        if usage is None:
            return
        yield GaugeMetricFamily(
            "db_pool_connections_in_use", "Database connections lent out.", value=usage.in_use
        )
        yield GaugeMetricFamily(
            "db_pool_connections", "Database connections open in the pool.", value=usage.size
        )
        yield GaugeMetricFamily(
            "db_pool_max_connections",
            "The most connections the pool may open (DB_POOL_MAX_SIZE).",
            value=usage.max_size,
        )


_POOL = PoolCollector()
REGISTRY.register(_POOL)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def scrape_registry() -> CollectorRegistry:
    if not multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(_POOL)
    return registry


def forget_this_process() -> None:
    """At shutdown in multi-process mode: drop this worker's live gauges from the sums."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
