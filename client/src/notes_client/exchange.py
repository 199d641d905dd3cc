"""One call on its way: the request each attempt sends and, after each attempt, whether to
return the answer, wait and try again, or give up. No I/O: the clients send and sleep.

    exchange = Exchange(call, policy.start(), timeout, http)
    while True:
        with exchange.attempt() as request:  # its span, if tracing (see `tracing`)
            try:
                outcome = exchange.answered(http.send(request))
            except httpx.TransportError as error:
                outcome = exchange.failed(error)  # raises ServiceUnreachable to give up
        if isinstance(outcome, Answer):
            return outcome
        sleep(outcome)
"""

from __future__ import annotations

import httpx

from notes_client import tracing
from notes_client.answers import Answer
from notes_client.calls import Call
from notes_client.errors import ServiceUnreachable
from notes_client.retry import Attempts


class Exchange:
    def __init__(
        self,
        call: Call,
        attempts: Attempts,
        timeout: httpx.Timeout,
        http: httpx.Client | httpx.AsyncClient,
    ) -> None:
        self.call = call
        self.attempts = attempts
        self._timeout = timeout
        self._http = http  # only to build requests, which both httpx clients do alike
        self._attempt: tracing.Attempt | None = None

    def attempt(self) -> tracing.Attempt:
        """The next attempt: entering it gives its request (whose timeouts end by the call's
        deadline), traced while inside if tracing is on."""
        self.attempts.begin()
        self._attempt = tracing.attempt(self._request(), self.call.template, self.attempts.count)
        return self._attempt

    def _request(self) -> httpx.Request:
        call = self.call
        return self._http.build_request(
            call.method,
            call.url,
            params=call.params,
            json=call.json,
            headers=call.request_headers(),
            timeout=self.attempts.timeout(self._timeout),
        )

    def answered(self, response: httpx.Response) -> Answer | float:
        """The answer to return, or the seconds to wait before the next attempt."""
        if self._attempt is not None:
            self._attempt.answered(response.status_code)
        delay = self.attempts.after_response(response, retry_safe=self.call.retry_safe)
        if delay is None:
            return Answer(self.call, response, self.attempts.count, self.attempts.maybe_applied)
        return delay

    def failed(self, error: httpx.TransportError) -> float:
        """The seconds to wait before the next attempt; raises ServiceUnreachable if none."""
        if self._attempt is not None:
            self._attempt.failed(error)
        delay = self.attempts.after_error(error, retry_safe=self.call.retry_safe)
        if delay is None:
            call, count = self.call, self.attempts.count
            raise ServiceUnreachable(
                f"{call.method} {call.url}: no answer after {count} attempt(s): {error!r}",
                attempts=count,
            ) from error
        return delay
