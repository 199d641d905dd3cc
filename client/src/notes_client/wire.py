"""Reading the service's response headers: Retry-After and Link."""

from __future__ import annotations

import email.utils
import re
import time

import httpx

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL_NEXT = re.compile(r';\s*rel\s*=\s*"?([^";]*)"?')


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def next_page(response: httpx.Response, base_url: httpx.URL) -> httpx.URL | None:
    """The `rel="next"` Link, moved onto `base_url`'s origin.

    Only the path and query of the link are used, so the API key never travels to an origin
    the caller did not configure (e.g. when the service sits behind a proxy it does not know).
    """
    for match in _LINK.finditer(response.headers.get("link", "")):
        relations = " ".join(_REL_NEXT.findall(match.group(2))).split()
        if "next" in relations:
            target = httpx.URL(match.group(1))
            return base_url.copy_with(path=target.path, query=target.query or None)
    return None
