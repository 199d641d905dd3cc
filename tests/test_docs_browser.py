"""The docs UI in a real browser: headless Chromium (Debian's), driven by Playwright, against
a real uvicorn server. It fails on any console error (CSP violations included) and on any
failed request, and leaves a screenshot (`docs/docs-ui.png` when SAVE_SCREENSHOT=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright, expect

from tests.conftest import in_ci
from tests.servers import REPO_ROOT, Server

pytestmark = pytest.mark.live  # a real browser against a real server

CHROMIUM = Path("/usr/bin/chromium")
# As root in a sandbox, and with no traffic to Google's services on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO_ROOT / "docs" / "docs-ui.png"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `apt-get install chromium` (dev.py test does it)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1400})
    page = await context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    def on_failed(request: Request) -> None:
        problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", on_failed)
    yield page
    await context.close()
    assert problems == []


async def try_it_out(page: Page, operation_id: str) -> None:
    """Expand an operation and press "Try it out"."""
    operation = page.locator(f"#operations-notes-{operation_id}")
    await operation.locator(".opblock-summary").click()
    await operation.get_by_role("button", name="Try it out").click()


async def test_swagger_ui_creates_a_note_and_lists_it(page: Page, live_server: Server) -> None:
    text = f"Written in the docs UI {uuid.uuid4().hex[:8]}"
    await page.goto(f"{live_server.base_url}/docs")
    await expect(page.locator("#operations-notes-create_note")).to_be_visible()

    await try_it_out(page, "create_note")
    create = page.locator("#operations-notes-create_note")
    await create.locator("textarea.body-param__text").fill(
        f'{{"text": "{text}", "completed": false}}'
    )
    await create.get_by_role("button", name="Execute").click()
    created = create.locator(".live-responses-table .response").first
    await expect(created.locator(".response-col_status")).to_contain_text("201")
    await expect(created.locator(".response-col_description")).to_contain_text(text)

    await try_it_out(page, "list_notes")
    listing = page.locator("#operations-notes-list_notes")
    await listing.get_by_role("button", name="Execute").click()
    listed = listing.locator(".live-responses-table .response").first
    await expect(listed.locator(".response-col_status")).to_contain_text("200")
    await expect(listed.locator(".response-col_description")).to_contain_text(text)

    stored = httpx.get(f"{live_server.base_url}/notes", params={"q": text}).json()
    assert [note["text"] for note in stored] == [text]
    await created.scroll_into_view_if_needed()
    path = SCREENSHOT if os.environ.get("SAVE_SCREENSHOT") == "true" else None
    shot = await page.screenshot(path=path, full_page=False)
    assert shot.startswith(b"\x89PNG")


async def test_redoc_renders_the_document(page: Page, live_server: Server) -> None:
    await page.goto(f"{live_server.base_url}/redoc")

    await expect(page.get_by_role("heading", name="Notes service").first).to_be_visible()
    await expect(page.get_by_role("heading", name="Create a note").first).to_be_visible()
    await expect(page.locator("[data-section-id='tag/notes']").first).to_be_attached()
