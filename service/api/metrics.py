"""Prometheus metrics: what the request middleware records, and the registry `/metrics` reads.

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set to an empty directory shared by
the workers, before they start), the client library keeps each worker's values in files there
and `/metrics` adds them up, whichever worker answers. The pool gauges are the exception: they
are read live from the pool of the worker answering the scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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
