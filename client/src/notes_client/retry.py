"""When and how long to wait before trying a call again: the policy, kept free of I/O so the
sync and the async client share it.

A call is retried on
- a connection that could not be opened (refused, connect timeout): the request never left,
  so any call may be retried;
- a connection lost after the request was sent, or a read timeout, and on a 429 or 503
  answer: only for a call that is safe to repeat (GET, PUT, DELETE, PATCH - this API's
  PATCH sets values, it never increments - and POST with an Idempotency-Key).

Waits grow exponentially with full jitter (a random wait between 0 and
`min(backoff_cap, backoff_base * 2**n)`, so replicas that failed together do not retry
together); a `Retry-After` answer is honoured as the least wait. Retrying stops after
`max_attempts`, or as soon as the next attempt could not finish within `deadline` seconds of
the first one; each attempt's timeouts shrink to what is left of the deadline.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import httpx

from notes_client.wire import retry_after_seconds

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How persistently a client retries. `RetryPolicy(max_attempts=1)` never retries."""

    deadline: float = 30.0
    max_attempts: int = 8
    backoff_base: float = 0.1
    backoff_cap: float = 5.0
    retry_statuses: frozenset[int] = field(default=frozenset({429, 503}))

    def __post_init__(self) -> None:
        if self.deadline <= 0 or self.max_attempts < 1 or self.backoff_base < 0:
            raise ValueError("deadline must be > 0, max_attempts >= 1 and backoff_base >= 0")

    def start(self) -> Attempts:
        return Attempts(self)


class Attempts:
    """The attempts of one call: counts them, and says whether and when to try again."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.started = time.monotonic()
        self.count = 0
        # An earlier attempt may have been applied although its answer was lost.
        self.maybe_applied = False

    def begin(self) -> None:
        self.count += 1

    def remaining(self) -> float:
        return self.policy.deadline - (time.monotonic() - self.started)

    def timeout(self, configured: httpx.Timeout) -> httpx.Timeout:
        """The configured timeouts, none longer than what is left of the deadline."""
        left = max(self.remaining(), 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(configured.connect),
            read=cap(configured.read),
            write=cap(configured.write),
            pool=cap(configured.pool),
        )

    def after_error(self, error: httpx.TransportError, *, retry_safe: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        never_sent = isinstance(error, NEVER_SENT)
        if not never_sent:
            self.maybe_applied = True
        if not (never_sent or retry_safe):
            return None
        return self._next_delay(least=0.0)

    def after_response(self, response: httpx.Response, *, retry_safe: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to accept this answer."""
        if response.status_code not in self.policy.retry_statuses or not retry_safe:
            return None
        return self._next_delay(least=retry_after_seconds(response) or 0.0)

    def _next_delay(self, *, least: float) -> float | None:
        if self.count >= self.policy.max_attempts:
            return None
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (self.count - 1))
        delay = max(least, random.uniform(0, ceiling))  # noqa: S311 (jitter, not a secret)
        # Waiting past the deadline would only end in a timeout: give up now instead.
        return delay if delay < self.remaining() else None
