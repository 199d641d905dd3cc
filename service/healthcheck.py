"""`python -m service healthcheck`: exit 0 when the server on this machine's PORT answers 200.

The container's HEALTHCHECK runs it every few seconds under a short timeout, so it imports
only the settings and the standard library (`service/__main__.py` comes here directly).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from service.config import Settings

PATHS = ("/health/live", "/health/ready")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", choices=PATHS, default="/health/live", help="what to ask")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for it")


def check(settings: Settings, path: str, timeout: float) -> None:
    """Exit 0 when the server on HOST:PORT answers `path` with 200, else 1 with the reason."""
    url = f"http://{_local_address(settings.HOST)}:{settings.PORT}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        sys.exit(f"unhealthy: {url}: {exc}")
    if status != 200:
        sys.exit(f"unhealthy: {url} answered {status}")
    print(f"healthy: {url} answered 200")


def _local_address(host: str) -> str:
    """Where to reach a server bound to `host` from the same machine."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (a bind address, not bound here)
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service healthcheck", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    check(Settings(), args.path, args.timeout)
