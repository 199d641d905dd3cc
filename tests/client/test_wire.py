"""Reading Retry-After and Link, on responses as the service and proxies write them."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from notes_client.wire import next_page, retry_after_seconds

BASE = httpx.URL("https://gateway.example/api/")


def answer(**headers: str) -> httpx.Response:
    return httpx.Response(200, headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.parametrize(
    ("value", "seconds"), [("5", 5.0), ("0", 0.0), ("", None), ("soon", None), ("-1", None)]
)
def test_retry_after_in_seconds(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(answer(retry_after=value)) == seconds


def test_retry_after_as_an_http_date() -> None:
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    past = email.utils.formatdate(time.time() - 10, usegmt=True)

    assert 8 <= (retry_after_seconds(answer(retry_after=in_ten)) or 0) <= 10
    assert retry_after_seconds(answer(retry_after=past)) == 0.0


def test_the_next_link_keeps_the_configured_origin() -> None:
    link = '<http://10.0.0.7:8000/api/notes?limit=2&after=4>; rel="next"'

    assert next_page(answer(link=link), BASE) == httpx.URL(
        "https://gateway.example/api/notes?limit=2&after=4"
    )


@pytest.mark.parametrize(
    "link",
    [
        "",
        '<http://x/notes?after=4>; rel="prev"',
        "<http://x/notes?after=4>",
    ],
)
def test_no_next_link_means_the_last_page(link: str) -> None:
    assert next_page(answer(link=link), BASE) is None


def test_next_among_several_links_and_relations() -> None:
    link = '<http://x/notes?after=1>; rel="prev", <http://x/notes?after=9>; rel="last next"'

    assert next_page(answer(link=link), BASE) == httpx.URL("https://gateway.example/notes?after=9")
