"""/docs renders in headless Chromium (Debian's package, driven by Playwright) with no network
beyond the server itself: every other request is refused and named."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.journeys.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Without the background-networking flags Chromium calls Google's hosts at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OPERATION = "/api/v1/applications"


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium; `make browser` installs it. Missing in CI is a failure, not a skip."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make browser` (as root) installs Debian's chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def test_docs_render_offline_in_chromium(live_server: LiveServer, chromium: Path,
                                         tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Route, sync_playwright

    server = origin(live_server.base_url)
    refused: list[str] = []

    def only_the_server(route: Route) -> None:
        if origin(route.request.url) == server:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("blockedbyclient")

    screenshot = tmp_path / "docs.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1600})
            context.route("**/*", only_the_server)
            page = context.new_page()
            page.goto(f"{live_server.base_url}/docs", wait_until="domcontentloaded")
            operation = page.locator(f'.opblock [data-path="{OPERATION}"]').first
            try:
                operation.wait_for(state="visible", timeout=20_000)
                rendered = True
            except PlaywrightError:
                rendered = False
            page.screenshot(path=str(screenshot), full_page=True)
            text = page.locator("body").inner_text()
        finally:
            browser.close()
    print(f"\nscreenshot of /docs: {screenshot}")

    assert not refused, f"/docs asked for hosts other than the server: {refused}"
    assert rendered, f"no operation list on /docs within 20 s; the page showed: {text[:500]!r}"
    assert OPERATION in text.replace("\u200b", "")
