"""A fault-injecting HTTP proxy in front of a real service, for the client's retry tests.

It forwards each request to the service on a connection of its own (`Connection: close`)
and, when told to, misbehaves the way networks and overloaded servers do:

- `drop`: forward the request, let the service answer, then close the client's connection
  without a byte of that answer - the request was applied, the caller never learns it;
- `refuse`: close the connection without forwarding (the request never arrives);
- `stall`: hold the connection for `STALL_SECONDS` without forwarding or answering;
- `503` / `429`: answer problem+json with the given Retry-After, without forwarding.

Every exchange is recorded (method, path, headers, the status the client got) so tests can
see what the client really sent, retries included.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

STALL_SECONDS = 3.0
Fault = Literal["drop", "refuse", "stall", "503", "429"]


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    status: int | None  # what the client received; None when it received nothing
    fault: Fault | None


@dataclass
class _Rule:
    fault: Fault
    method: str | None
    times: int
    retry_after: str | None


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        address = urlsplit(upstream)
        self.upstream = (address.hostname or "127.0.0.1", address.port or 80)
        self.exchanges: list[Exchange] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: str | None = None,
    ) -> None:
        """The next `times` requests (of `method`, if given) meet `fault`."""
        with self._lock:
            self._rules.append(_Rule(fault, method, times, retry_after))

    def requests(self, method: str | None = None) -> list[Exchange]:
        return [e for e in self.exchanges if method is None or e.method == method]

    def _take(self, method: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method in (None, method):
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(10)
        head, body = _read_request(client)
        if head is None:
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = dict(_split(line) for line in header_lines if line)
        rule = self._take(method)
        fault = rule.fault if rule else None
        answer = b""
        if fault in ("503", "429"):
            assert rule is not None
            answer = _problem(int(fault), rule.retry_after)
        elif fault == "stall":
            self.exchanges.append(Exchange(method, path, headers, None, fault))
            time.sleep(STALL_SECONDS)
            client.close()
            return
        elif fault != "refuse":
            answer = self._forward(request_line, header_lines, body)
            if fault == "drop":
                answer = b""
        status = int(answer.split(b" ", 2)[1]) if answer else None
        # Recorded before the client can see the answer, so a test finds it there.
        self.exchanges.append(Exchange(method, path, headers, status, fault))
        with contextlib.suppress(OSError):  # the client may have given up already
            client.sendall(answer)
        client.close()

    def _forward(self, request_line: str, header_lines: list[str], body: bytes) -> bytes:
        kept = [
            line for line in header_lines if line and not line.lower().startswith("connection:")
        ]
        head = "\r\n".join([request_line, *kept, "Connection: close", "", ""]).encode("latin-1")
        with socket.create_connection(self.upstream, timeout=10) as upstream:
            upstream.sendall(head + body)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _split(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip()


def _read_request(client: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            while len(body) < int(value):
                body += client.recv(65536)
    return head, body


def _problem(status: int, retry_after: str | None) -> bytes:
    reason = {429: "Too Many Requests", 503: "Service Unavailable"}[status]
    body = json.dumps(
        {"type": "/problems/injected", "title": reason, "status": status, "detail": "injected"}
    ).encode()
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if retry_after is not None:
        lines.append(f"Retry-After: {retry_after}")
    return "\r\n".join([*lines, "", ""]).encode() + body


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    thread = threading.Thread(target=proxy._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy._server.shutdown()
        proxy._server.server_close()
        thread.join()
